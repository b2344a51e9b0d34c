/**
 * The `needsDrain` / `drain` pair of the pool and the processor: a producer asks `needsDrain`
 * before it submits more, and waits for `drain` (the event, or `drain()`'s promise) when it is
 * true. Whoever owns the capacity says when it may have changed (`changed()`); the edge is looked
 * at once, in a microtask, so that a burst which fills and frees capacity within one synchronous
 * stretch announces nothing, and so that no listener runs inside the bookkeeping that changed it
 * (a listener that submits would re-enter it). Events therefore alternate strictly: `needsDrain`,
 * `drain`, `needsDrain`, ..., each announcing the state as it is when the event is emitted.
 */
export class DrainEdge {
  /** The state last announced: the first announcement is a `needsDrain`. */
  private announced = false;
  private scheduled = false;
  private waiters: (() => void)[] = [];

  /**
   * @param needsDrain whether a producer should hold back now, read live
   * @param announce emits `needsDrain` (true) or `drain` (false) to the owner's listeners
   */
  constructor(
    private readonly needsDrain: () => boolean,
    private readonly announce: (needsDrain: boolean) => void,
  ) {}

  /** The owner's capacity may have changed: look at the edge once this stretch of work is over. */
  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.look);
  }

  /** Resolves once `needsDrain` reads false (at once if it does now). */
  drain(): Promise<void> {
    if (!this.needsDrain()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private readonly look = (): void => {
    this.scheduled = false;
    const now = this.needsDrain();
    if (!now && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
    if (now === this.announced) return;
    this.announced = now;
    this.announce(now);
  };
}
