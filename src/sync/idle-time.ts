/**
 * How long each worker has spent without work (searching or parked), for the pool's statistics.
 * Kept in the worker's block of shared memory, written by the worker, read by the main thread.
 */
import { type Layout, WorkerBlock, workerWord } from '../shm/layout.js';
import { sharedNow } from './clock.js';

export class IdleTime {
  private readonly f64: Float64Array;
  /** Float64 indices of each worker's SEARCHING_SINCE and IDLE_TOTAL_MS. */
  private readonly searchingSince: number[] = [];
  private readonly idleTotal: number[] = [];

  constructor(words: Int32Array, layout: Layout) {
    this.f64 = new Float64Array(words.buffer as SharedArrayBuffer);
    for (let i = 0; i < layout.threads; i++) {
      this.searchingSince.push(workerWord(layout, i, WorkerBlock.SEARCHING_SINCE) >> 1);
      this.idleTotal.push(workerWord(layout, i, WorkerBlock.IDLE_TOTAL_MS) >> 1);
    }
  }

  /** Worker `self` ran out of work. */
  searchStarted(self: number): void {
    this.f64[this.searchingSince[self]] = sharedNow();
  }

  /** Worker `self` found work: its idle period is added to its total. */
  searchEnded(self: number): void {
    const since = this.f64[this.searchingSince[self]];
    if (since === 0) return;
    this.f64[this.idleTotal[self]] += sharedNow() - since;
    this.f64[this.searchingSince[self]] = 0;
  }

  /**
   * Milliseconds worker `index` has spent searching for work or parked, up to `now` (shared clock).
   * Read without synchronisation from another thread: a statistic, exact to within one interval.
   */
  idleMs(index: number, now: number): number {
    const since = this.f64[this.searchingSince[index]];
    return this.f64[this.idleTotal[index]] + (since !== 0 && now > since ? now - since : 0);
  }
}
