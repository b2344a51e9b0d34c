/**
 * What a job of a viscose queue holds and how its failure is described: shared by the nodes that
 * run jobs and the clients that add them. BullMQ stores a job's data and its return value as JSON,
 * so a task's arguments and result must survive `JSON.stringify` (a local pool takes more: see the
 * docs/guide/cluster.md); a chunk's arguments and values travel packed when JSON's types cover them
 * (packing.ts), its arguments then beside the job (job-args.ts).
 */
import type { Priority } from '../queue/priority.js';

/** The data of a job of one call: a task of the module and its arguments. */
export interface CallJobData {
  task: string;
  args: unknown[];
}

/**
 * The data of a job of many calls of one task (a chunk): each call's arguments in JSON, or how
 * many calls it holds when their arguments are packed beside the job (packing.ts, job-args.ts);
 * and after an attempt in which some calls failed while attempts remain, what that attempt
 * recorded, so that the next attempt runs only the calls still to do.
 */
export type ChunkJobData = { task: string; retained?: RetainedOutcomes } & ({ calls: unknown[][] } | { packedCalls: number });

/** The outcomes an earlier attempt of a chunk recorded: `values[i]` for every call not in `todo`. */
export interface RetainedOutcomes {
  values: unknown[];
  /** Indices of the calls that failed and run again. */
  todo: number[];
}

/** What a job of a viscose queue holds. */
export type TaskJobData = CallJobData | ChunkJobData;

/** Whether a job is a chunk of calls. */
export function isChunk(data: TaskJobData): data is ChunkJobData {
  return 'calls' in data ? Array.isArray(data.calls) : typeof (data as { packedCalls?: unknown }).packedCalls === 'number';
}

/**
 * The return value of a chunk's job: every call's outcome, in order, and what the client sizes its
 * chunks from. A failed call has `null` among the values and its error in `failures`. The values
 * are `packed` when JSON's types cover them (packing.ts), else in `values`.
 */
export type ChunkResult = ({ values: unknown[] } | { packed: string }) & ChunkReport;

/** What a chunk's result holds besides its values. */
export interface ChunkReport {
  /** `[index, error]` of each call that failed (on its last attempt). */
  failures: [number, RemoteErrorDetails][];
  /** The node that ran the chunk's last attempt. */
  node: string;
  /** Milliseconds the node's pool threads spent running the calls of the last attempt, summed over its threads. */
  runMs: number;
  /** How many calls the last attempt ran. */
  ran: number;
}

/** A failed task's error as the node saw it, recorded in the job's log (BullMQ keeps the message and the stack). */
export interface RemoteErrorDetails {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  /** The node (host and process id) whose pool ran the task. */
  node: string;
}

/** The job log line that carries RemoteErrorDetails: this prefix, then JSON. */
export const ERROR_LOG_PREFIX = 'viscose-error ';

/** An Error with the details' name, message, stack and code. */
export function errorFromDetails(details: RemoteErrorDetails): Error {
  const error = new Error(details.message);
  error.name = details.name;
  if (details.stack !== undefined) error.stack = details.stack;
  if (details.code !== undefined) Object.assign(error, { code: details.code });
  return error;
}

/**
 * The BullMQ priority of each call priority (1 is BullMQ's most urgent). Every job gets one: BullMQ
 * takes jobs without a priority before all prioritized ones, so a `normal` call left without one
 * would pass every `high` call. Within a priority BullMQ keeps the order in which jobs were added.
 */
export const JOB_PRIORITY: Readonly<Record<Priority, number>> = { high: 1, normal: 2, low: 3 };

/**
 * The pool priority a node runs a job at, so that among the jobs it holds the more urgent are
 * taken first. Jobs added by other producers may carry any BullMQ priority: none counts as normal,
 * anything less urgent than normal as low.
 */
export function poolPriorityOf(jobPriority: number | undefined): Priority {
  if (jobPriority === JOB_PRIORITY.high) return 'high';
  if (jobPriority === undefined || jobPriority === 0 || jobPriority === JOB_PRIORITY.normal) return 'normal';
  return 'low';
}

/**
 * A client's request to stop jobs that a node is running, published on the queue's
 * {@link cancelChannel} (Redis pub/sub: BullMQ can stop a running job only from the worker that
 * holds it, and its own event stream would be trimmed by publishing into it).
 */
export interface CancelRequest {
  ids: string[];
  reason: string;
}

/** The pub/sub channel of a queue's cancel requests. */
export function cancelChannel(queue: string, prefix = 'bull'): string {
  return `${prefix}:${queue}:viscose-cancel`;
}
