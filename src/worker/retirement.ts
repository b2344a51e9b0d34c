/**
 * An elastic pool's worker leaving once it was idle for `idleTimeout` (docs/internals/elastic-size.md,
 * "Retirement"). The worker decides alone, from its loop, and leaves through two exchanges: one on
 * the pool's count of present workers, which keeps `minThreads`, and one on its mailbox count,
 * which work addressed to it alone (a broadcast part) either wins — the worker stays — or sees and
 * takes elsewhere. Work queued for anyone is the worker's own final look's (WorkerThread.retire).
 */
import type { Mailbox } from '../queue/mailbox.js';
import { Header } from '../shm/layout.js';

export class Retirement {
  /** When the worker last ran out of work (performance.now()), or -1 while it has some. */
  private idleSince = -1;

  constructor(
    private readonly words: Int32Array,
    /** The worker's own mailbox. */
    private readonly mailbox: Mailbox,
    private readonly minThreads: number,
    private readonly idleTimeoutMs: number,
  ) {}

  /** The worker found work. */
  busy(): void {
    this.idleSince = -1;
  }

  /** The worker starts looking for work; an idle period that already began goes on. */
  idle(now: number): void {
    if (this.idleSince < 0) this.idleSince = now;
  }

  /**
   * How long the next park may last: at most `limit`, and no later than the retirement is due.
   * Once it is due (and the worker stayed, at `minThreads`), parks last `limit` again.
   */
  parkMs(limit: number, now: number): number {
    if (this.idleTimeoutMs === Infinity || this.idleSince < 0) return limit;
    const left = this.idleSince + this.idleTimeoutMs - now;
    return left > 0 ? Math.min(limit, left) : limit;
  }

  /**
   * The timeout of a park that leaves the event loop running (waitAsync), which needs no turn of
   * it: none, unless this worker may retire; then as `parkMs`, so that it looks again every
   * `turnMs` while it stays at `minThreads`.
   */
  asyncParkMs(turnMs: number, now: number): number {
    return this.idleTimeoutMs === Infinity ? Infinity : this.parkMs(turnMs, now);
  }

  /** Whether the worker has been idle for `idleTimeout`. */
  due(now: number): boolean {
    return this.idleSince >= 0 && now - this.idleSince >= this.idleTimeoutMs;
  }

  /**
   * Takes the worker out of the count of present workers while more than `minThreads` are there,
   * then marks its mailbox absent unless something is posted or being posted to it. Returns
   * whether both held; if the second did not, the first is undone.
   */
  leave(): boolean {
    const { words } = this;
    for (;;) {
      const present = Atomics.load(words, Header.PRESENT_WORKERS);
      if (present <= this.minThreads) return false;
      if (Atomics.compareExchange(words, Header.PRESENT_WORKERS, present, present - 1) === present) break;
    }
    if (this.mailbox.retire()) return true;
    Atomics.add(words, Header.PRESENT_WORKERS, 1);
    return false;
  }

  /** Undoes `leave()`: the worker's final look found something that needs it. */
  stay(): void {
    this.mailbox.markPresent();
    Atomics.add(this.words, Header.PRESENT_WORKERS, 1);
  }
}
