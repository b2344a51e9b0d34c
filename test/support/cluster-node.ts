// `viscose worker` processes for the cluster tests, serving the cluster task module.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JobArgs } from '../../src/bullmq/job-args.js';
import type { TaskJobData } from '../../src/bullmq/jobs.js';
import { unpackCalls } from '../../src/bullmq/packing.js';
import { waitFor } from './wait-for.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const CLUSTER_TASKS = fileURLToPath(new URL('../fixtures/cluster-tasks.mjs', import.meta.url));
/**
 * A client's `jobOptions` that keep completed jobs' records for an hour, for a test to inspect
 * them: by default a client removes a record once it has read the job's result.
 */
export const KEEP_RECORDS = { removeOnComplete: { age: 3600 } };

/** How many calls a chunk's job holds; undefined for a job of one call. */
export function chunkLength(data: TaskJobData): number | undefined {
  if ('calls' in data) return data.calls.length;
  return 'packedCalls' in data ? data.packedCalls : undefined;
}

/** Where the packed chunk arguments of `queue` (reached over `connection`) are. */
export function jobArgsOf(queue: Queue, connection: Redis): JobArgs {
  return new JobArgs(connection, queue.name, queue.opts.prefix);
}

/**
 * The calls of a chunk's job, packed (read from beside the job: while its record is kept) or in
 * JSON, as its node runs them; undefined for a job of one call.
 */
export async function chunkCalls(args: JobArgs, job: Job<TaskJobData>): Promise<unknown[][] | undefined> {
  const { data } = job;
  if ('calls' in data) return data.calls;
  if (!('packedCalls' in data)) return undefined;
  const bytes = await args.read(job.id!);
  if (bytes === null) throw new Error(`the packed arguments of job ${job.id} are gone`);
  return [...unpackCalls(bytes, data.packedCalls)];
}

export interface NodeProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the node's name (host:pid) once it serves its queue. */
  serving: () => Promise<string>;
}

export interface NodeSettings {
  queue: string;
  /** A killed node's jobs are found stalled within seconds (BullMQ's default is 30 s). Default true. */
  shortLocks?: boolean;
  /** Jobs taken at once (`--concurrency`); the command's default when absent. */
  concurrency?: number;
  /** The pool's threads (`--threads`). Default 1. */
  threads?: number;
  /** More options of the command. */
  options?: string[];
}

/** Starts `viscose worker`. */
export function startNode(redis: string, { queue, shortLocks = true, concurrency, threads = 1, options = [] }: NodeSettings): NodeProcess {
  const locks = shortLocks ? ['--lock-duration', '2000', '--stalled-interval', '1000'] : [];
  const jobsAtOnce = concurrency === undefined ? [] : ['--concurrency', String(concurrency)];
  const args = [
    'worker',
    '--module',
    CLUSTER_TASKS,
    '--queue',
    queue,
    '--redis',
    redis,
    '--threads',
    String(threads),
    ...locks,
    ...jobsAtOnce,
    ...options,
  ];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const serving = async () => {
    await waitFor(() => output.includes('serving queue'), 30_000);
    return /viscose worker (\S+): serving/.exec(output)![1];
  };
  return { child, output: () => output, serving };
}

/** Runs `body` with a BullMQ Queue object of its own on `queue`, to inspect the jobs. */
export async function withQueue<T>(
  redis: string,
  queue: string,
  body: (queue: Queue, connection: Redis) => Promise<T>,
  prefix?: string,
): Promise<T> {
  const connection = new Redis(redis, { maxRetriesPerRequest: null });
  // Without writing the queue's settings (a Queue object writes its own over them by default).
  const inspected = new Queue(queue, { connection, skipMetasUpdate: true, prefix });
  try {
    return await body(inspected, connection);
  } finally {
    await inspected.close();
    await connection.quit();
  }
}
