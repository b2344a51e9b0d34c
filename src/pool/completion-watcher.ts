/**
 * How the main thread learns that tasks finished, without ever blocking its event loop.
 *
 * While tasks are in flight it polls the completion rings from `setImmediate` callbacks (each one
 * costs an event-loop turn, well under a microsecond of work here). When polling stops paying off it
 * parks: it raises MAIN_PARKED and waits on the doorbell word with `Atomics.waitAsync`; the next
 * worker that publishes a completion (or posts a task event) clears the flag and rings the doorbell.
 *
 * How long to poll before parking follows how long completions have been taking: about twice the
 * recent typical wait, as long as that stays below MAX_POLL_MS. A wait is measured up to the time
 * the worker *finished* the task (stamped in the slot), not to the time the main thread noticed:
 * after a park the latter includes the wake-up, which would keep the estimate high and the main
 * thread parking, a slow state that feeds itself. Request/response traffic thus sees its completions
 * within an event-loop turn instead of paying a cross-thread wake (tens of microseconds to
 * milliseconds on an idle VM), while long CPU-bound tasks let the main thread, and its core, rest.
 *
 * Except after the main thread woke a worker: then it parks at once. Linux tends to run a woken
 * thread on the waker's core, and a main thread that keeps polling there makes the worker wait for
 * the end of its time slice (milliseconds): bench/probes/wake-affinity.mjs measured the p99 from
 * wake to run at 1.1–2.7 ms while the waker polls, 150–170 µs while it waits.
 *
 * When completions have been arriving within a few microseconds of each other, each look first
 * waits for one synchronously, for at most about twice the typical wait (see waitBriefly): a
 * request/response loop then sees its completion without paying one more event-loop turn.
 */
import { sharedNow } from '../sync/clock.js';
import { Header } from '../shm/layout.js';

/** Longest polling window, in milliseconds. */
const MAX_POLL_MS = 0.2;
/** Longest synchronous wait for a completion inside one poll (see waitBriefly), in milliseconds. */
const SPIN_MS = 0.02;
/** Shortest polling window: one look before parking. */
const MIN_POLL_MS = 0.002;

export class CompletionWatcher {
  private watching = false;
  private parked = false;
  private pollWindowMs = MAX_POLL_MS / 4;
  /** Running estimate of how long a wait for the next completion lasts, in milliseconds. */
  private typicalWaitMs = MAX_POLL_MS / 8;
  /** When the current wait for a completion began (submission, or the last completion; shared clock). */
  private waitingSince = 0;
  /** `completions()` when last looked at. */
  private seenCompletions = 0;
  /** `wakesIssued()` when last looked at. */
  private seenWakes = 0;

  constructor(
    private readonly words: Int32Array,
    /** Consumes every published completion. */
    private readonly drain: () => void,
    /** Whether a completion is waiting to be drained (a few loads, no side effects). */
    private readonly published: () => boolean,
    /**
     * How many completions were consumed so far, by this watcher or elsewhere (submissions drain
     * the rings too).
     */
    private readonly completions: () => number,
    /** The latest finishing time (shared clock) among the completions consumed. */
    private readonly lastFinishedAt: () => number,
    /** Whether anything is still in flight. */
    private readonly busy: () => boolean,
    /** How many workers the main thread has woken so far. */
    private readonly wakesIssued: () => number,
  ) {}

  /** Called when work was submitted: make sure someone is watching for its completion. */
  wake(): void {
    if (this.watching) return;
    this.watching = true;
    this.waitingSince = sharedNow();
    setImmediate(this.poll);
  }

  private readonly poll = (): void => {
    this.waitBriefly();
    this.drain();
    const now = sharedNow();
    this.noteProgress(now);
    if (!this.busy()) {
      this.watching = false;
      return;
    }
    if (now - this.waitingSince < this.pollWindowMs && !this.wokeWorker()) {
      setImmediate(this.poll);
      return;
    }
    this.park();
  };

  /**
   * When completions have been arriving within a few microseconds (a request/response loop with
   * short tasks), waits for the next one here, synchronously, for at most about twice that long
   * (SPIN_MS at most): an event-loop turn costs more than the wait itself on this kind of machine
   * (2-3 µs), so looking only once per turn would add most of a turn to every round trip.
   */
  private waitBriefly(): void {
    const expected = 2 * this.typicalWaitMs;
    // Not after waking a worker: it may have been put on this thread's core (see the file comment).
    if (expected > SPIN_MS || this.wakesIssued() !== this.seenWakes || this.published()) return;
    const until = sharedNow() + expected;
    while (!this.published() && sharedNow() < until);
  }

  /** Whether the main thread woke a worker since the last look (see the file comment). */
  private wokeWorker(): boolean {
    const wakes = this.wakesIssued();
    if (wakes === this.seenWakes) return false;
    this.seenWakes = wakes;
    return true;
  }

  /**
   * If completions arrived since the last look, the current wait ended when the last of them
   * finished: fold its length into the estimate and size the polling window from it. The next wait
   * starts `now`.
   */
  private noteProgress(now: number): void {
    const completions = this.completions();
    if (completions === this.seenCompletions) return;
    this.seenCompletions = completions;
    const waited = Math.max(0, Math.min(now, this.lastFinishedAt()) - this.waitingSince);
    this.typicalWaitMs += (waited - this.typicalWaitMs) / 4;
    this.waitingSince = now;
    const window = 2 * this.typicalWaitMs;
    this.pollWindowMs = window <= MAX_POLL_MS ? Math.max(MIN_POLL_MS, window) : MIN_POLL_MS;
  }

  private park(): void {
    const words = this.words;
    Atomics.store(words, Header.MAIN_PARKED, 1);
    const seen = Atomics.load(words, Header.MAIN_DOORBELL);
    // Raising the flag first and then looking once more closes the window in which a worker
    // published after our last drain but read the flag before we raised it. A worker that took the
    // flag meanwhile rang for something this drain read, perhaps before `seen` was loaded: it would
    // not ring again, so the watcher must not wait. (A task event rings too without completing
    // anything: pool/task-events.ts.)
    this.drain();
    if (this.completions() !== this.seenCompletions || !this.busy() || Atomics.load(words, Header.MAIN_PARKED) === 0) {
      Atomics.store(words, Header.MAIN_PARKED, 0);
      this.resume();
      return;
    }
    const wait = Atomics.waitAsync(words, Header.MAIN_DOORBELL, seen);
    if (!wait.async) {
      this.resume();
      return;
    }
    this.parked = true;
    void wait.value.then(this.unpark);
  }

  private readonly unpark = (): void => {
    this.parked = false;
    this.resume();
  };

  private resume(): void {
    this.drain();
    this.noteProgress(sharedNow());
    if (!this.busy()) {
      this.watching = false;
      return;
    }
    setImmediate(this.poll);
  }

  /**
   * Wakes a parked watcher: when the pool terminates, so that no waiter is left behind, and after a
   * worker died, which may have cleared MAIN_PARKED without ringing.
   */
  release(): void {
    if (!this.parked) return;
    Atomics.store(this.words, Header.MAIN_PARKED, 0);
    Atomics.add(this.words, Header.MAIN_DOORBELL, 1);
    Atomics.notify(this.words, Header.MAIN_DOORBELL);
  }
}
