/**
 * How a node runs the jobs it takes on its pool: a job of one call as one pool call, a chunk of
 * calls as one pool batch. A call's failure is described for the client (name, message, code,
 * stack, node); a cancelled job fails as unrecoverable, so BullMQ does not run it again.
 */
import { type Job, UnrecoverableError } from 'bullmq';
import type { EncodedCalls } from '../codec/encoded-calls.js';
import { AbortError, TaskError, messageOf } from '../errors.js';
import type { ThreadPool } from '../pool/thread-pool.js';
import type { CancelListener } from './cancellation.js';
import type { JobArgs } from './job-args.js';
import { PACKED_BATCH, type PackedBatch } from '../pool/calls.js';
import { joinPackedValues, packValues, unpackCalls, unpackValueList } from './packing.js';
import {
  type CallJobData,
  type ChunkJobData,
  type ChunkResult,
  ERROR_LOG_PREFIX,
  type RemoteErrorDetails,
  errorFromDetails,
  poolPriorityOf,
} from './jobs.js';

/** What a job's run needs besides the job. */
export interface JobRunContext {
  pool: ThreadPool;
  /** This node's name (host and process id), in error details and chunk results. */
  node: string;
  cancels: CancelListener;
  /** Where packed chunks' arguments are. */
  args: JobArgs;
  /** Told, per job, the time the pool's threads spent on its calls. */
  ran: (poolMs: number) => void;
}

/** Runs a job of one call: its return value is the task's result; a failure fails the job. */
export async function runCall(
  job: Job<CallJobData>,
  signal: AbortSignal | undefined,
  { pool, node, cancels, ran }: JobRunContext,
): Promise<unknown> {
  const { task, args } = job.data;
  refuseCancelled(job, cancels);
  try {
    return await pool.with({ priority: poolPriorityOf(job.opts.priority), signal, observer: { ran } }).run(task, ...args);
  } catch (error) {
    throw await failJob(job, error, node);
  }
}

/**
 * Runs a chunk's calls (those an earlier attempt did not record) as one pool batch. When some
 * failed and the job has attempts left, the outcomes so far are stored in the job's data and the
 * job fails, so that BullMQ runs it again after its backoff, with only the failed calls; on the
 * last attempt the job completes with every call's outcome, failures included.
 */
export async function runChunk(
  job: Job<ChunkJobData>,
  signal: AbortSignal | undefined,
  { pool, node, cancels, args, ran }: JobRunContext,
): Promise<ChunkResult> {
  const { task, retained } = job.data;
  refuseCancelled(job, cancels);
  const calls = 'calls' in job.data ? job.data.calls : await packedCalls(job as Job<{ packedCalls: number }>, args);
  // Undefined on a first attempt, when every call runs in order. Per-call work here is on the node's
  // main thread, which shares the host's CPU with the pool: no list of indices is built for it.
  const todo = retained?.todo;
  const count = todo?.length ?? calls.length;
  // The time the pool's threads spent on the calls, not the batch's wall time: that one also counts
  // the waits behind the other jobs in hand and, on a host with a CPU quota, the throttled spells:
  // chunks sized from it would shrink as a node falls behind, which puts it further behind.
  let runMs = 0;
  const observer = { ran: (chunkMs: number) => (runMs += chunkMs) };
  // One pool chunk per thread, not the pool's usual eight of at most 512 calls: the node holds
  // several jobs at once, which keep its threads busy and even, and fewer chunks cost fewer slots,
  // wake-ups and result messages (a tenth of a half-core node's CPU, with 2,400 trivial calls a job).
  const chunkSize = Math.max(1, Math.ceil(count / pool.threads));
  let batch: PackedBatch;
  try {
    // The workers pack the values themselves: decoding them here to pack them again took a third of
    // a half-core node's main thread, with trivial calls.
    batch = await pool[PACKED_BATCH](
      { priority: poolPriorityOf(job.opts.priority), signal, observer, chunkSize },
      task,
      todo === undefined ? calls : callsAt(calls, todo),
    );
  } catch (error) {
    // Refused as a whole (an unknown task, the pool closed): every call fails alike.
    throw await failJob(job, error, node);
  }
  ran(runMs);
  if (signal?.aborted) throw cancelled(signal.reason);
  const failures: [number, RemoteErrorDetails][] = [];
  for (let k = 0; k < count; k++) {
    const entry = batch.entries[k];
    if (entry?.status === 'rejected') failures.push([todo === undefined ? k : todo[k], describeFailure(entry.reason, node)]);
  }
  const report = { failures, node, runMs, ran: count };
  const retry = failures.length > 0 && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
  if (todo === undefined && !retry) {
    const lists = packedLists(batch, count);
    if (lists !== undefined) return { packed: joinPackedValues(lists), ...report };
  }
  const values = retained?.values.slice() ?? new Array<unknown>(calls.length);
  fillValues(values, batch, todo);
  if (retry) {
    await job.updateData({ ...job.data, retained: { values, todo: failures.map(([index]) => index) } });
    const [, first] = failures[0];
    throw new Error(`${failures.length} of the chunk's ${count} calls failed and run again; the first: ${first.name}: ${first.message}`);
  }
  const packed = packValues(values);
  return { ...(packed === undefined ? { values } : { packed }), ...report };
}

/** The batch's packed lists in the order of their calls, when they hold every call's value; else undefined. */
function packedLists({ packed }: PackedBatch, count: number): Uint8Array[] | undefined {
  const ordered = packed.toSorted((a, b) => a.start - b.start);
  let next = 0;
  for (const { start, count: calls } of ordered) {
    if (start !== next) return undefined;
    next += calls;
  }
  return next === count ? ordered.map(({ bytes }) => bytes) : undefined;
}

/** Puts the value of the batch's k-th call at `values[todo[k]]` (at `values[k]` without `todo`): null for a failed call. */
function fillValues(values: unknown[], { packed, entries }: PackedBatch, todo: number[] | undefined): void {
  const at = (k: number) => (todo === undefined ? k : todo[k]);
  for (let k = 0; k < entries.length; k++) {
    const entry = entries[k];
    if (entry !== undefined) values[at(k)] = entry.status === 'fulfilled' ? (entry.value ?? null) : null;
  }
  for (const { start, bytes } of packed) {
    const list = unpackValueList(bytes);
    for (let i = 0; i < list.length; i++) if (entries[start + i] === undefined) values[at(start + i)] = list[i];
  }
}

/**
 * A chunk's calls from its packed arguments. Fails the job as unrecoverable when they are gone or
 * cannot be read: no attempt would find them. A Redis error is thrown as it is (the job can be
 * tried again).
 */
async function packedCalls(job: Job<{ packedCalls: number }>, args: JobArgs): Promise<EncodedCalls> {
  const unreadable = (why: string) => new UnrecoverableError(`job ${job.id} holds a chunk that cannot be read: ${why}`);
  const bytes = await args.read(job.id!);
  if (bytes === null) throw unreadable(`its arguments are gone from Redis (${args.keyOf(job.id!)}): removed, or expired with its record`);
  try {
    return unpackCalls(bytes, job.data.packedCalls);
  } catch (error) {
    throw unreadable(messageOf(error));
  }
}

/** The calls at `indices`, held as `calls` are. */
function callsAt(calls: unknown[][] | EncodedCalls, indices: number[]): unknown[][] | EncodedCalls {
  return Array.isArray(calls) ? indices.map((index) => calls[index]) : calls.select(indices);
}

/** Unrecoverable: a cancelled job is not retried, whatever its `attempts`. */
function refuseCancelled(job: Job, cancels: CancelListener): void {
  if (cancels.wasCancelled(job.id!)) throw new UnrecoverableError('cancelled by its caller before it started');
}

function cancelled(reason: unknown): UnrecoverableError {
  return new UnrecoverableError(`cancelled by its caller: ${reason instanceof Error ? reason.message : String(reason)}`);
}

/**
 * The error a job fails with: unrecoverable for a cancel; else the failure's own, whose details
 * are logged on the job first (BullMQ records the message as the failed reason, and the stack).
 */
async function failJob(job: Job, error: unknown, node: string): Promise<Error> {
  if (error instanceof AbortError) return cancelled(error.cause);
  const details = describeFailure(error, node);
  await job.log(ERROR_LOG_PREFIX + JSON.stringify(details));
  return errorFromDetails(details);
}

/** The task's own error when the task threw, else the pool's error (unknown task, bad arguments...). */
function describeFailure(error: unknown, node: string): RemoteErrorDetails {
  const cause = error instanceof TaskError ? error.cause : error;
  if (!(cause instanceof Error)) return { name: 'Error', message: String(cause), node };
  const code = (cause as { code?: unknown }).code;
  return { name: cause.name, message: cause.message, code: typeof code === 'string' ? code : undefined, stack: cause.stack, node };
}
