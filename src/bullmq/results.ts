/**
 * Where a client's calls wait for their jobs' outcomes.
 *
 * One listener on the queue's events serves every job (BullMQ's `Job.waitUntilFinished` adds
 * listeners and a Redis round trip per job). A job's waiter is registered before the job is added
 * (the client names its jobs), so no event can come before its waiter.
 *
 * Events can still be missed: Redis trims the queue's event stream to its `maxLen` (about 10,000
 * entries by default) whatever its readers have read, so a client whose event loop was busy, or
 * whose connection dropped, while many jobs finished finds some of their events gone. So a waiter
 * that has heard nothing for a while looks its job up in Redis, and again at doubling intervals:
 * no call waits forever for an event that will not come.
 */
import { Job, type Queue, type QueueEvents } from 'bullmq';
import type { TaskJobData } from './jobs.js';

/** How a job ended, as a waiter is told. */
export type JobOutcome = { completed: true; value: unknown } | { completed: false; failedReason: string };

interface Waiter {
  settle(outcome: JobOutcome | Error): void;
  /** When to look the job up in Redis if no event has come. */
  checkAt: number;
  /** The interval before that look-up; doubled after each one that finds the job unfinished. */
  checkAfter: number;
}

/** Look-ups of silent jobs in flight at once, so that a sweep of a large batch cannot flood Redis. */
const LOOKUPS_AT_ONCE = 256;
/** The longest a waiter goes between two look-ups. */
const LONGEST_CHECK_INTERVAL_MS = 5 * 60_000;

export class ResultWatch {
  private readonly waiters = new Map<string, Waiter>();
  private readonly sweeper: NodeJS.Timeout;
  private lookups = 0;

  /**
   * @param checkIntervalMs how long a waiter waits for an event before its first look-up.
   * @param onError receives look-ups that failed (Redis unreachable): they are tried again later.
   */
  constructor(
    private readonly queue: Queue<TaskJobData>,
    events: QueueEvents,
    private readonly checkIntervalMs: number,
    private readonly onError: (error: Error) => void,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, { completed: true, value: returnvalue }));
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, { completed: false, failedReason }));
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(checkIntervalMs, 1000)));
    this.sweeper.unref();
  }

  /**
   * Waits for job `id`'s outcome; `settle` is called once, with it or with the error that ended the
   * wait. Register before adding the job; call {@link added} once it is in the queue.
   */
  expect(id: string, settle: (outcome: JobOutcome | Error) => void): void {
    // Not looked up before it is added: it would be missing, as if removed.
    this.waiters.set(id, { settle, checkAt: Number.POSITIVE_INFINITY, checkAfter: this.checkIntervalMs });
  }

  /** Job `id` is in the queue: from now on, silence makes its waiter look it up. */
  added(id: string): void {
    const waiter = this.waiters.get(id);
    if (waiter !== undefined) waiter.checkAt = Date.now() + waiter.checkAfter;
  }

  /** Stops waiting for job `id` (its caller no longer wants the outcome). */
  forget(id: string): void {
    this.waiters.delete(id);
  }

  /** Ends every wait with `error` and stops looking jobs up. */
  close(error: Error): void {
    clearInterval(this.sweeper);
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const waiter of waiters) waiter.settle(error);
  }

  private settle(id: string, outcome: JobOutcome | Error): void {
    const waiter = this.waiters.get(id);
    if (waiter === undefined) return; // another client's job, or a call that stopped waiting
    this.waiters.delete(id);
    waiter.settle(outcome);
  }

  /** Looks up the jobs whose waiters are due, at most LOOKUPS_AT_ONCE at a time. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, waiter] of this.waiters) {
      if (this.lookups >= LOOKUPS_AT_ONCE) return;
      if (waiter.checkAt > now) continue;
      waiter.checkAfter = Math.min(2 * waiter.checkAfter, LONGEST_CHECK_INTERVAL_MS);
      waiter.checkAt = Number.POSITIVE_INFINITY; // not again while this look-up is in flight
      this.lookups++;
      this.lookUp(id)
        .then((outcome) => {
          if (outcome !== undefined) this.settle(id, outcome);
        })
        .catch((error: unknown) => this.onError(error instanceof Error ? error : new Error(String(error))))
        .finally(() => {
          this.lookups--;
          waiter.checkAt = Date.now() + waiter.checkAfter;
        });
    }
  }

  /** The job's outcome if it has finished; undefined while it has not. */
  private async lookUp(id: string): Promise<JobOutcome | Error | undefined> {
    const state = await this.queue.getJobState(id);
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return undefined;
    const job = await Job.fromId<TaskJobData>(this.queue, id);
    if (job === undefined) {
      return new Error(
        `job ${id} was removed from the queue before its outcome was read (by its removeOnComplete or removeOnFail age, or by hand)`,
      );
    }
    return state === 'completed' ? { completed: true, value: job.returnvalue } : { completed: false, failedReason: job.failedReason };
  }
}
