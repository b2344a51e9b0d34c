/**
 * The client of a viscose cluster: the `run` / `runBatch` of a local pool, over a BullMQ queue that
 * nodes (node.ts) serve. A call adds a job; its result comes back through BullMQ's queue events.
 */
import { type Job, type JobsOptions, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { TaskError } from '../errors.js';
import type { TaskArgs, TaskModule, TaskName, TaskResult, UntypedModule } from '../pool/types.js';
import { ERROR_LOG_PREFIX, type RedisLocation, type RemoteErrorDetails, type TaskJobData, connectRedis } from './jobs.js';

export interface ClusterClientOptions extends RedisLocation {
  /** The BullMQ queue's name, the one the nodes serve. */
  queue: string;
  /**
   * BullMQ options for every job (`attempts`, `backoff`, `priority`, ...). By default a completed
   * job's record is removed after an hour (a client that starts waiting for it late still finds its
   * result), and a failed one after a day.
   */
  jobOptions?: JobsOptions;
}

const DEFAULT_JOB_OPTIONS: JobsOptions = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } };

export class ClusterClient<M extends TaskModule = UntypedModule> {
  private constructor(
    private readonly queue: Queue<TaskJobData>,
    private readonly events: QueueEvents,
    private readonly connections: Redis[],
    private readonly jobOptions: JobsOptions,
  ) {}

  /** Connects to the queue; resolves once its events are being received. */
  static async connect<M extends TaskModule = UntypedModule>(options: ClusterClientOptions): Promise<ClusterClient<M>> {
    const connections = [connectRedis(options), connectRedis(options)];
    const queue = new Queue<TaskJobData>(options.queue, { connection: connections[0] });
    const events = new QueueEvents(options.queue, { connection: connections[1] });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new ClusterClient<M>(queue, events, connections, { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions });
  }

  /** Runs `name(...args)` on some node. Rejects with a TaskError whose `cause` is the task's error. */
  async run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>> {
    const job = await this.queue.add(name, { task: name, args }, this.jobOptions);
    return this.outcome(job, name) as Promise<TaskResult<M, K>>;
  }

  /**
   * Runs one call of `name` per argument list, added to the queue in one bulk operation, spread
   * over the nodes. Resolves with the results in order; rejects with the first failure, in order
   * (the other calls still run).
   */
  async runBatch<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<TaskResult<M, K>[]> {
    const jobs = await this.queue.addBulk(Array.from(argsList, (args) => ({ name, data: { task: name, args }, opts: this.jobOptions })));
    const outcomes = jobs.map((job, index) => this.outcome(job, name, index));
    for (const outcome of outcomes) outcome.catch(() => {}); // reported through Promise.all below
    return (await Promise.all(outcomes)) as TaskResult<M, K>[];
  }

  /** Closes the client's connections (jobs already added still run). */
  async close(): Promise<void> {
    await Promise.all([this.events.close(), this.queue.close()]);
    // BullMQ leaves the connections it was given open.
    await Promise.all(this.connections.map((connection) => connection.quit()));
  }

  private async outcome(job: Job<TaskJobData>, task: string, index?: number): Promise<unknown> {
    try {
      return await job.waitUntilFinished(this.events);
    } catch (error) {
      const details = await this.detailsOf(job.id!);
      throw new TaskError(task, details?.node ?? 'a cluster node', failureOf(details, error), index);
    }
  }

  private async detailsOf(id: string): Promise<RemoteErrorDetails | undefined> {
    const { logs } = await this.queue.getJobLogs(id);
    const line = logs.find((entry) => entry.startsWith(ERROR_LOG_PREFIX));
    return line === undefined ? undefined : (JSON.parse(line.slice(ERROR_LOG_PREFIX.length)) as RemoteErrorDetails);
  }
}

/** The task's error, rebuilt from what the node logged (name, message, code, stack). */
function failureOf(details: RemoteErrorDetails | undefined, reported: unknown): Error {
  if (details === undefined) return reported instanceof Error ? reported : new Error(String(reported));
  const error = new Error(details.message);
  error.name = details.name;
  if (details.stack !== undefined) error.stack = details.stack;
  if (details.code !== undefined) Object.assign(error, { code: details.code });
  return error;
}
