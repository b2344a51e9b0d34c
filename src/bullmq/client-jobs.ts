/**
 * A client's calls and the jobs that carry them: one job per call, or one job per chunk of calls
 * of one task. Each call keeps its own promise, settled once — from its job's outcome (its own
 * entry of a chunk's result), or earlier by an abort or the client's close.
 */
import { randomUUID } from 'node:crypto';
import { TaskError } from '../errors.js';
import { type CallJobData, type ChunkJobData, type ChunkResult, type RemoteErrorDetails, errorFromDetails } from './jobs.js';

/** One call: its promise and what settles it. */
export interface ClusterCall {
  readonly outcome: Promise<unknown>;
  /** Its index in its batch, for the TaskError of a failure; none for a `run`. */
  readonly index: number | undefined;
  /** Resolves the call with `value`; false if it had settled already. */
  fulfil(value: unknown): boolean;
  /** Rejects the call with `error`; false if it had settled already. */
  fail(error: unknown): boolean;
}

/** One job: its id, its task, and the calls it carries in order. */
export interface ClusterJob {
  readonly id: string;
  readonly task: string;
  readonly calls: ClusterCall[];
  /** Whether its data is a chunk (many calls), whose result holds each call's outcome. */
  readonly chunk: boolean;
  readonly data: CallJobData | ChunkJobData;
}

export function newCall(index: number | undefined): ClusterCall {
  let settled = false;
  let resolve!: (value: unknown) => void;
  let reject!: (error: unknown) => void;
  const outcome = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // An abort while the job is being added settles the call before the caller holds its promise;
  // the caller's own handler, attached then, still sees the rejection.
  outcome.catch(() => {});
  const once = (settle: () => void) => {
    if (settled) return false;
    settled = true;
    settle();
    return true;
  };
  return { outcome, index, fulfil: (value) => once(() => resolve(value)), fail: (error) => once(() => reject(error)) };
}

/**
 * The jobs of `argsList`'s calls of `task`, `chunkSize` calls per job (a job of one call when
 * `chunkSize` is 1 or there is one call only, in the format other producers use too).
 */
export function jobsOf(task: string, argsList: unknown[][], calls: ClusterCall[], chunkSize: number): ClusterJob[] {
  if (chunkSize <= 1 || argsList.length === 1) {
    return argsList.map((args, i) => ({ id: randomUUID(), task, calls: [calls[i]], chunk: false, data: { task, args } }));
  }
  const jobs: ClusterJob[] = [];
  for (let start = 0; start < argsList.length; start += chunkSize) {
    const end = start + chunkSize;
    jobs.push({ id: randomUUID(), task, calls: calls.slice(start, end), chunk: true, data: { task, calls: argsList.slice(start, end) } });
  }
  return jobs;
}

/**
 * Settles each call of a completed chunk from its entry of the result. Returns the result when it
 * has the shape of a chunk result, else settles every call with an error saying so.
 */
export function settleChunk(job: ClusterJob, returned: unknown): ChunkResult | undefined {
  const result = returned as ChunkResult | null | undefined;
  if (!Array.isArray(result?.values) || result.values.length !== job.calls.length || !Array.isArray(result.failures)) {
    const error = new Error(
      `job ${job.id} completed without the result of a chunk of ${job.calls.length} calls: was it run by a viscose node?`,
    );
    for (const call of job.calls) call.fail(error);
    return undefined;
  }
  for (const [index, details] of result.failures) {
    const call = job.calls[index];
    call?.fail(remoteFailure(job.task, details, call.index));
  }
  result.values.forEach((value, index) => {
    job.calls[index].fulfil(value);
  });
  return result;
}

/** The TaskError of a call that failed on a node, with the task's error rebuilt from its details. */
export function remoteFailure(task: string, details: RemoteErrorDetails, index: number | undefined): TaskError {
  return new TaskError(task, details.node, errorFromDetails(details), index);
}
