/**
 * An elastic pool's worker leaving once it was idle for `idleTimeout` (docs/internals/elastic-size.md,
 * "Retirement"). The worker decides alone, from its loop, and leaves through two exchanges: one on
 * the pool's count of present workers, which keeps `minThreads`, and one on its mailbox count,
 * which work addressed to it alone (a broadcast part) either wins — the worker stays — or sees and
 * takes elsewhere. Work queued for anyone is the worker's own final look's (WorkerThread.retire).
 */
import type { WorkerConfig } from '../control/protocol.js';
import type { Mailbox } from '../queue/mailbox.js';
import { workerMailbox } from '../queue/open.js';
import { Header } from '../shm/layout.js';

export class Retirement {
  /** When the worker last ran out of work (performance.now()), or -1 while it has some. */
  private idleSince = -1;

  /** The worker's own mailbox. */
  private readonly mailbox: Mailbox;
  private readonly minThreads: number;
  private readonly idleTimeoutMs: number;

  constructor(
    private readonly words: Int32Array,
    config: WorkerConfig,
  ) {
    this.mailbox = workerMailbox(words, config.layout, config.index);
    this.minThreads = config.minThreads;
    this.idleTimeoutMs = config.idleTimeoutMs;
  }

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
   * Whether the worker leaves for good: if it owns nothing (`owns`: an asynchronous task in flight,
   * anything only it can take — deque, FIFO lanes, mailbox —, a slot of its region in use: forked
   * work outstanding, a scope record, a result not read), it leaves the count and marks its
   * mailbox, then makes the final look (`needsAttention`, as before a park): it stopped searching
   * before, so a producer that left work to it, seeing it search, pushed that work before this
   * look. Timers or sockets that task code left on its event loop do not keep it, as they would
   * not keep a worker that crashed.
   */
  tryRetire(owns: () => boolean, needsAttention: () => boolean): boolean {
    if (owns() || !this.leave()) return false;
    if (!needsAttention()) return true;
    this.stay();
    return false;
  }

  /**
   * Takes the worker out of the count of present workers while more than `minThreads` are there,
   * then marks its mailbox absent unless something is posted or being posted to it. Returns
   * whether both held; if the second did not, the first is undone.
   */
  private leave(): boolean {
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
  private stay(): void {
    this.mailbox.markPresent();
    Atomics.add(this.words, Header.PRESENT_WORKERS, 1);
  }
}
