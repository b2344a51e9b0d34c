/**
 * The main thread's free task slots, lowest on top: a lightly loaded pool keeps reusing the same
 * few slots and cache lines. When the last one is taken the pool is `full` (a call made then
 * waits); `onCapacity` hears of every change of that.
 */
export class FreeSlots {
  private readonly list: number[] = [];
  /** Called when `full` may have changed. */
  onCapacity: () => void = () => {};

  constructor(slots: number) {
    for (let slot = slots - 1; slot >= 0; slot--) this.list.push(slot);
  }

  /** Every slot is taken (a freed slot goes to whoever waits before it comes back here). */
  get full(): boolean {
    return this.list.length === 0;
  }

  /** A free slot, if any. */
  take(): number | undefined {
    const slot = this.list.pop();
    if (slot !== undefined && this.list.length === 0) this.onCapacity();
    return slot;
  }

  give(slot: number): void {
    this.list.push(slot);
    if (this.list.length === 1) this.onCapacity();
  }
}
