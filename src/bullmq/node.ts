/**
 * A node of a viscose cluster: serves a BullMQ queue with a local pool. A job is one call of a task
 * of the pool's module, or a chunk of calls of one task; BullMQ's worker takes up to `concurrency`
 * jobs at a time and the pool runs them on its threads (job-runs.ts). A job's BullMQ priority
 * becomes its pool priority; a client's cancel request aborts its pool call.
 */
import { hostname } from 'node:os';
import { type Job, type JobsOptions, Worker, type WorkerOptions } from 'bullmq';
import type { ThreadPool } from '../pool/thread-pool.js';
import { reportFailure } from '../pool/pool-events.js';
import { CancelListener } from './cancellation.js';
import { JobArgs } from './job-args.js';
import { JobsAtOnce } from './jobs-at-once.js';
import { JobsInHand } from './jobs-in-hand.js';
import { type RedisLocation, closeOver, openConnections } from './connections.js';
import { NODE_OPTIONS } from './options.js';
import { resolveTable } from '../options/table.js';
import { runCall, runChunk } from './job-runs.js';
import { type CallJobData, type ChunkJobData, type TaskJobData, cancelChannel, isChunk } from './jobs.js';

export interface QueueNodeOptions extends RedisLocation {
  /** The BullMQ queue's name. */
  queue: string;
  /**
   * Jobs taken at once: a number, or `'auto'` to follow the round trip to Redis. A job keeps its
   * place until its result is recorded in Redis, which takes a round trip; with `'auto'` the node
   * holds `threads × (1 + ⌈trip ÷ a job's pool time⌉)` jobs, from twice to eight times the pool's
   * threads, so that short chunks far from Redis keep the threads busy while jobs of long tasks
   * stay at twice the threads (a job held is one no other node can start).
   */
  concurrency?: number | 'auto';
  /**
   * Any other BullMQ worker option, e.g. `lockDuration` and `stalledInterval`: how soon the jobs of
   * a node that died are noticed (stalled) and run again elsewhere (30 s each by default).
   */
  worker?: Omit<WorkerOptions, 'connection' | 'concurrency' | 'name' | 'autorun'>;
}

export interface QueueNode {
  /** This node's name in error details: host and process id. */
  readonly name: string;
  /** The jobs it takes at once now: `concurrency`, or what `'auto'` chose last. */
  readonly concurrency: number;
  /**
   * Stops taking jobs and waits for the jobs in hand to finish (their results recorded). The pool
   * stays open: it is the caller's. With Redis unreachable it does not wait for the jobs in hand
   * (their results could not be recorded; their locks expire and other nodes run them again); if
   * Redis is lost while it waits, it gives up a few seconds later.
   */
  close(): Promise<void>;
}

/** Starts serving `options.queue` with `pool`. Resolves once the worker is connected. */
export async function serveQueue(pool: ThreadPool, options: QueueNodeOptions): Promise<QueueNode> {
  const settings = resolveTable(NODE_OPTIONS, options, 'an object with at least `redis` and `queue`');
  const name = `${hostname()}:${process.pid}`;
  // As the pool's own failures: to its `error` listeners and its onError, else a warning.
  const onError = (error: Error) => reportFailure(pool, pool.settings.onError, error);
  const [connection, subscriber] = await openConnections(settings, [true, true]);
  const args = new JobArgs(connection, settings.queue, settings.worker?.prefix);
  let cancels: CancelListener | undefined;
  const fixed = settings.concurrency === 'auto' ? undefined : settings.concurrency;
  // BullMQ's worker reads its concurrency before each fetch, so a change applies to the next job.
  // Only a job's run reports a change, so `worker` exists by then.
  const atOnce = fixed === undefined ? new JobsAtOnce(pool.settings.threads, (jobs) => (worker.concurrency = jobs)) : undefined;
  const inHand = new JobsInHand((recordingMs) => atOnce?.recorded(recordingMs));
  const ran = (poolMs: number) => atOnce?.ran(poolMs);
  // Three parameters: BullMQ hands a processor that declares the third an AbortSignal per job.
  const processor = (job: Job<TaskJobData>, _token: string | undefined, signal: AbortSignal | undefined) => {
    const id = job.id!;
    inHand.started(id);
    const context = { pool, node: name, cancels: cancels!, args, ran };
    const run = isChunk(job.data) ? runChunk(job as Job<ChunkJobData>, signal, context) : runCall(job as Job<CallJobData>, signal, context);
    return run.finally(() => inHand.ended(id));
  };
  const worker = new Worker<TaskJobData>(settings.queue, processor, {
    ...settings.worker,
    connection,
    concurrency: fixed ?? atOnce!.current,
    // Recorded on each job it takes (`processedBy`).
    name,
    // Started once the cancel listener exists (the processor needs it).
    autorun: false,
  });
  /** A finished chunk's packed arguments go as its record will (job-args.ts). */
  const retireArgs = (job: Job<TaskJobData>, retention: JobsOptions['removeOnComplete']) => {
    if (!('packedCalls' in job.data)) return;
    args.retire(job.id!, retention).catch((error: unknown) => {
      onError(new Error(`viscose: could not release the arguments of job ${job.id}`, { cause: error }));
    });
  };
  // BullMQ reports a broken Redis connection here; the worker reconnects by itself.
  worker.on('error', onError);
  // Emitted once BullMQ has recorded the job's outcome.
  worker.on('completed', (job) => {
    inHand.recorded(job.id!);
    retireArgs(job, job.opts.removeOnComplete ?? settings.worker?.removeOnComplete);
  });
  worker.on('failed', (job) => {
    if (job === undefined) return;
    inHand.recorded(job.id!);
    // Set only when the job failed for good: one that runs again needs its arguments.
    if (job.finishedOn) retireArgs(job, job.opts.removeOnFail ?? settings.worker?.removeOnFail);
  });
  subscriber.on('error', onError);
  try {
    cancels = await CancelListener.listen(subscriber, cancelChannel(settings.queue, settings.worker?.prefix), worker, onError);
    await worker.waitUntilReady();
  } catch (error) {
    await closeOver([connection, subscriber], () => worker.close(true));
    throw error;
  }
  void worker.run().catch(onError);
  let closing: Promise<void> | undefined;
  // The drain is done here, not by BullMQ's graceful close: that one waits for Redis forever if
  // Redis goes away meanwhile, and closeOver could then not stop it. Without Redis the jobs in hand
  // could not record their results anyway (their locks expire and other nodes run them again).
  // BullMQ leaves a connection it was given open: closeOver ends them.
  const shutDown = () =>
    closeOver([connection, subscriber], async (reachable) => {
      await worker.pause(true); // takes no more jobs
      if (reachable) await inHand.drained();
      await worker.close(true);
    }).finally(() => worker.close(true)); // if closeOver gave up on the drain
  return {
    name,
    get concurrency() {
      return worker.concurrency;
    },
    close: () => (closing ??= shutDown()),
  };
}
