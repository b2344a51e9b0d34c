/**
 * Growing an elastic pool: when work waits and no worker is idle, start one more, up to
 * `maxThreads`, one start at a time (docs/internals/elastic-size.md).
 *
 * The check runs on the main thread: after every submission, after a start ended, and while calls
 * are in flight, again a moment later (sooner when work is queued) — a worker that was idle when a
 * burst arrived may be busy with its first call by then while the burst's other calls wait, and a
 * running task may fork work that nobody takes. A fixed-size pool, or one at `maxThreads`, has no
 * timer, and a fixed-size pool's submissions pay nothing for this.
 */
import { type Timer, startTimer } from '../time/timer.js';

/** One look at the pool's work, read from shared memory by the main thread. */
export interface WorkLook {
  /** Entries queued in the injector, every level. */
  injected: number;
  /** Entries the workers took from the injector so far (their counters, summed). */
  taken: number;
  /** Entries queued in the deques of the workers there are: forked work nobody took yet. */
  forked: number;
  /** Whether some worker there is has no work (it is searching or parked), or is still starting. */
  idle: boolean;
  /** When the look was taken (performance.now()). */
  at: number;
}

/** What the check reads, and how it starts a worker. */
export interface GrowthSources {
  /** Whether the pool may start a worker now: below `maxThreads`, and running. */
  hasRoom(): boolean;
  look(): WorkLook;
  /** Whether calls are in flight: one running may fork work later. */
  busy(): boolean;
  /** Starts a worker at the next free index; resolves once it took work or failed to start. */
  startWorker(): Promise<unknown>;
}

/** How soon a look follows one that saw work queued, when nothing else triggers one. */
const RECHECK_MS = 1;
/** How soon a look follows one that saw nothing queued while calls are in flight. */
const WATCH_MS = 10;

export class Growth {
  private starting = false;
  /** The first of the latest looks in a row that saw work waiting and no worker idle. */
  private pressed: WorkLook | undefined;
  private recheck: Timer | undefined;

  constructor(private readonly sources: GrowthSources) {}

  /**
   * Work was queued, a start ended, or a recheck is due. A worker is started when two looks at
   * least RECHECK_MS apart, and every look between them, see no worker idle and work of the first
   * still waiting: an entry of the injector it saw not yet taken, or forked work queued at both.
   * One look is not enough: a worker that just finished a call is neither running one nor
   * searching yet, and a request and response loop would look to it like a pool that cannot keep
   * up.
   */
  readonly check = (): void => {
    const { sources } = this;
    if (this.starting || !sources.hasRoom()) return;
    const now = sources.look();
    const before = this.pressed;
    this.pressed = undefined;
    const queued = now.injected + now.forked > 0;
    const waiting = queued && !now.idle;
    if (waiting && before !== undefined && stillWaiting(before, now)) {
      if (now.at - before.at >= RECHECK_MS) {
        this.starting = true;
        void sources.startWorker().then(
          () => this.startEnded(),
          () => this.startEnded(),
        );
        return;
      }
      // Too soon to tell a backlog from a worker between two calls: the older look stays.
      this.pressed = before;
    } else if (waiting) {
      this.pressed = now;
    }
    if (!queued && !sources.busy()) return;
    this.recheck ??= startTimer(
      queued ? RECHECK_MS : WATCH_MS,
      () => {
        this.recheck = undefined;
        this.check();
      },
      { keepsProcessAlive: false },
    );
  };

  /** The pool stops: no recheck is left pending. */
  stop(): void {
    this.recheck?.cancel();
    this.recheck = undefined;
  }

  private startEnded(): void {
    this.starting = false;
    this.check();
  }
}

/** Whether work queued at `before` still waits at `now`. */
function stillWaiting(before: WorkLook, now: WorkLook): boolean {
  return now.taken - before.taken < before.injected || (before.forked > 0 && now.forked > 0);
}
