/**
 * The jobs that carry a client's calls: one job per call, or one job per chunk of calls of one
 * task. Each call is settled from its job's outcome — its own entry of a chunk's result.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { TaskError } from '../errors.js';
import type { CallOutcomes } from './call-outcomes.js';
import {
  type CallJobData,
  type ChunkJobData,
  type ChunkResult,
  ERROR_LOG_PREFIX,
  type RemoteErrorDetails,
  type TaskJobData,
  errorFromDetails,
} from './jobs.js';
import { packCalls, unpackValues } from './packing.js';

/** One job: its id, its task, and which calls of a submission it carries. */
export interface ClusterJob {
  readonly id: string;
  readonly task: string;
  readonly outcomes: CallOutcomes;
  /** Its first call's index among the submission's calls. */
  readonly start: number;
  readonly count: number;
  /** Whether its data is a chunk (many calls), whose result holds each call's outcome. */
  readonly chunk: boolean;
  /** Its calls as given; `dataOf` is what goes to the queue. */
  readonly data: CallJobData | { task: string; calls: unknown[][] };
}

/**
 * The jobs of `argsList`'s calls of `task`, `chunkSize` calls per job (a job of one call when
 * `chunkSize` is 1 or there is one call only, in the format other producers use too).
 */
export function jobsOf(task: string, argsList: unknown[][], outcomes: CallOutcomes, chunkSize: number): ClusterJob[] {
  if (chunkSize <= 1 || argsList.length === 1) {
    return argsList.map((args, start) => ({ id: randomUUID(), task, outcomes, start, count: 1, chunk: false, data: { task, args } }));
  }
  const jobs: ClusterJob[] = [];
  for (let start = 0; start < argsList.length; start += chunkSize) {
    const calls = argsList.slice(start, start + chunkSize);
    jobs.push({ id: randomUUID(), task, outcomes, start, count: calls.length, chunk: true, data: { task, calls } });
  }
  return jobs;
}

/** How a job goes to the queue: its data, and a chunk's packed arguments, stored beside it (job-args.ts). */
export interface JobForm {
  data: CallJobData | ChunkJobData;
  args?: Buffer;
}

/**
 * How `job` is added: a chunk's arguments packed when JSON's types cover them. Done as the job is
 * added rather than when the batch is cut, so that nodes start on the first chunks while the
 * client packs the others.
 */
export function formOf(job: ClusterJob): JobForm {
  if (!('calls' in job.data)) return { data: job.data };
  const args = packCalls(job.data.calls);
  return args === undefined ? { data: job.data } : { data: { task: job.task, packedCalls: job.count }, args };
}

/** The error details of failed job `id`, as its node logged them, else BullMQ's failed reason. */
export async function failureOf(
  queue: Queue<TaskJobData>,
  id: string,
  failedReason: string,
  onError: (error: Error) => void,
): Promise<RemoteErrorDetails> {
  try {
    const { logs } = await queue.getJobLogs(id);
    const line = logs.find((entry) => entry.startsWith(ERROR_LOG_PREFIX));
    if (line !== undefined) return JSON.parse(line.slice(ERROR_LOG_PREFIX.length)) as RemoteErrorDetails;
  } catch (error) {
    // The failure is still reported, with BullMQ's failed reason only.
    onError(new Error(`viscose: could not read the error details of job ${id}`, { cause: error }));
  }
  return { name: 'Error', message: failedReason, node: 'a cluster node' };
}

/** Settles every call of `job` alike: with `error`, or a TaskError of each from `details`. */
export function failJob(job: ClusterJob, failure: Error | RemoteErrorDetails): void {
  for (let index = job.start; index < job.start + job.count; index++) {
    job.outcomes.fail(index, failure instanceof Error ? failure : remoteFailure(job, index, failure));
  }
}

/**
 * Settles each call of a completed chunk from its entry of the result. Returns the result when it
 * has the shape of a chunk result, else settles every call with an error saying so.
 */
export function settleChunk(job: ClusterJob, returned: unknown): ChunkResult | undefined {
  const result = returned as ChunkResult | null | undefined;
  const values = valuesOf(result);
  if (values?.length !== job.count || !Array.isArray(result?.failures)) {
    failJob(job, new Error(`job ${job.id} completed without the result of a chunk of ${job.count} calls: was it run by a viscose node?`));
    return undefined;
  }
  const { outcomes, start } = job;
  for (const [index, details] of result.failures) {
    if (index >= 0 && index < job.count) outcomes.fail(start + index, remoteFailure(job, start + index, details));
  }
  for (let index = 0; index < job.count; index++) outcomes.fulfil(start + index, values[index]);
  return result;
}

/** A chunk result's values, packed or not; undefined when it has none it can read. */
function valuesOf(result: ChunkResult | null | undefined): unknown[] | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  if ('values' in result) return Array.isArray(result.values) ? result.values : undefined;
  if (typeof result.packed !== 'string') return undefined;
  try {
    return unpackValues(result.packed);
  } catch {
    return undefined;
  }
}

/** The TaskError of a call that failed on a node, with the task's error rebuilt from its details. */
function remoteFailure(job: ClusterJob, index: number, details: RemoteErrorDetails): TaskError {
  return new TaskError(job.task, details.node, errorFromDetails(details), job.outcomes.indexed ? index : undefined);
}
