/**
 * One worker's event counters (tasks run, steals, steal attempts, injector takes, parks), in its
 * block's COUNTERS line. They are float64s, not Int32 words: a worker running small tasks passes
 * 2^31 events within hours, and an Int32 counter would then read negative; a float64 counts
 * exactly to 2^53. Written by their worker only, with plain stores (read by the statistics and the
 * snapshot from any thread, as the other per-worker float64s of the block are).
 */
import { type Layout, WorkerBlock, workerWord } from './layout.js';

/** Which counter: its float64 index within the COUNTERS line. */
export const WorkerCounter = {
  TASKS_RUN: 0,
  STEALS: 1,
  INJECTOR_TAKES: 2,
  PARKS: 3,
  /** Looks into another worker's deque, successful or not. */
  STEAL_ATTEMPTS: 4,
} as const;

export type WorkerCounterName = (typeof WorkerCounter)[keyof typeof WorkerCounter];

export class WorkerCounters {
  private readonly f64: Float64Array;
  /** Float64 index of the first counter. */
  private readonly base: number;

  constructor(words: Int32Array, layout: Layout, worker: number) {
    this.f64 = new Float64Array(words.buffer as SharedArrayBuffer);
    // The COUNTERS line starts on a 64-byte boundary, so its first word is 8-byte aligned.
    this.base = workerWord(layout, worker, WorkerBlock.COUNTERS) / 2;
  }

  /** For the worker that owns them. */
  increment(counter: WorkerCounterName): void {
    this.f64[this.base + counter]++;
  }

  read(counter: WorkerCounterName): number {
    return this.f64[this.base + counter];
  }
}
