/**
 * How many jobs a node takes at once when its `concurrency` is `'auto'`. A job keeps its place
 * for its run on the pool and then for the round trip that records its outcome, in which BullMQ
 * also fetches the next job. While a place waits on that trip, the other places must keep the
 * pool's threads busy: with jobs of `poolMs` thread time and trips of `tripMs`, a thread goes
 * through `tripMs ÷ poolMs` jobs during one trip. So a node holds
 * `threads × (1 + ⌈tripMs ÷ poolMs⌉)` jobs, which for jobs longer than a trip is the fixed
 * default of twice the threads, and grows for short chunks far from Redis.
 */

/** Jobs per thread a node holds at least: one running, one whose next is on its way. */
const FEWEST_PER_THREAD = 2;
/**
 * Jobs per thread a node holds at most: a job held is one no other node can start. Measured on
 * one-thread nodes in half a core (means of 15 batches, near the benchmark's noise), 8 jobs
 * instead of 2 made batches of trivial calls 8–9 % faster on one host, with and without 1 ms to
 * Redis, and left two hosts as they were.
 */
const MOST_PER_THREAD = 8;
/** Weight of the newest pool time in the running average: a few jobs' worth of memory. */
const NEWEST_WEIGHT = 0.25;
/** Recordings over which the trip is the shortest seen. */
const TRIP_WINDOW = 16;

export class JobsAtOnce {
  private jobs: number;
  private poolMs: number | undefined;
  /**
   * The last recordings' times. The trip is their shortest: a recording that took longer waited
   * on the node itself (its main thread busy with other jobs, or its CPU quota spent), which more
   * jobs in hand would only make worse.
   */
  private readonly trips: number[] = [];
  private nextTrip = 0;

  /** `apply` is told each new count (BullMQ's worker reads its `concurrency` before each fetch). */
  constructor(
    private readonly threads: number,
    private readonly apply: (jobs: number) => void,
  ) {
    this.jobs = FEWEST_PER_THREAD * threads;
  }

  /** The count in force: the fewest until both times have been measured. */
  get current(): number {
    return this.jobs;
  }

  /** A job's calls took `poolMs` of the pool's threads' time. */
  ran(poolMs: number): void {
    this.poolMs = this.poolMs === undefined ? poolMs : this.poolMs + NEWEST_WEIGHT * (poolMs - this.poolMs);
    this.update();
  }

  /** A job's outcome took `tripMs` to be recorded, from its end on the pool. */
  recorded(tripMs: number): void {
    this.trips[this.nextTrip] = tripMs;
    this.nextTrip = (this.nextTrip + 1) % TRIP_WINDOW;
    this.update();
  }

  private update(): void {
    if (this.poolMs === undefined || this.trips.length === 0) return;
    // A job that took no measurable time stands for one of the shortest the clock can tell.
    const perThread = 1 + Math.ceil(Math.min(...this.trips) / Math.max(this.poolMs, 0.001));
    const jobs = this.threads * Math.min(MOST_PER_THREAD, Math.max(FEWEST_PER_THREAD, perThread));
    if (jobs === this.jobs) return;
    this.jobs = jobs;
    this.apply(jobs);
  }
}
