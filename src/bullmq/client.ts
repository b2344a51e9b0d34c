/**
 * The client of a viscose cluster: the `run` / `runBatch` of a local pool, over a BullMQ queue that
 * nodes (node.ts) serve. A call adds a job; its result comes back through BullMQ's queue events.
 */
import { randomUUID } from 'node:crypto';
import { type JobsOptions, Queue, QueueEvents, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { AbortError, QueueFullError, TaskError, ViscoseError } from '../errors.js';
import { resolveTable } from '../options/table.js';
import { AbortListeners } from '../pool/abort-listeners.js';
import type { TaskArgs, TaskModule, TaskName, TaskResult, UntypedModule } from '../pool/types.js';
import type { Priority } from '../queue/priority.js';
import { withdrawJobs } from './cancellation.js';
import { type RedisLocation, closeOver, openConnections } from './connections.js';
import { ERROR_LOG_PREFIX, JOB_PRIORITY, type RemoteErrorDetails, type TaskJobData, cancelChannel, errorFromDetails } from './jobs.js';
import { type JobOutcome, ResultWatch } from './results.js';
import { CLIENT_OPTIONS, CLUSTER_CALL_OPTIONS } from './options.js';

export interface ClusterClientOptions extends RedisLocation {
  /** The BullMQ queue's name, the one the nodes serve. */
  queue: string;
  /**
   * BullMQ options for every job (`attempts`, `backoff`, `removeOnComplete`, ...), but not
   * `priority` or `jobId`: a call's priority is set with {@link ClusterClient.with}, and the client
   * names its jobs. By default a completed job's record is removed after an hour (a client that
   * looks a result up late still finds it), and a failed one after a day.
   */
  jobOptions?: Omit<JobsOptions, 'priority' | 'jobId'>;
  /**
   * BullMQ queue options, e.g. `prefix` (the nodes must use the same) or `streams.events.maxLen`
   * (the length Redis trims the queue's event stream to).
   */
  queueOptions?: Omit<QueueOptions, 'connection'>;
  /**
   * Milliseconds a call waits for its job's completion event before looking the job up in Redis
   * (again after 2×, 4×, ... up to 5 minutes while it has not finished): events trimmed from the
   * stream before this client read them are not waited for forever. Default 15,000.
   */
  resultCheckInterval?: number;
  /** Receives failures no call can be told about (a look-up or a cancel that failed). Default: a process warning. */
  onError?: (error: Error) => void;
  /**
   * How many of this client's calls may wait in the queue: added, and neither seen start on a node
   * (BullMQ's `active` event) nor finished. A call beyond it rejects at once with QueueFullError,
   * whatever its priority, and nothing is added; a batch is added whole or refused whole. Calls
   * of other clients do not count. Default `Infinity`.
   */
  maxQueue?: number;
}

/** Options of {@link ClusterClient.with}. */
export interface ClusterCallOptions {
  /**
   * `'high'`, `'normal'` (the default) or `'low'`: the job's BullMQ priority (1, 2, 3). BullMQ
   * starts waiting jobs strictly by priority, in the order added within one; a node runs the jobs it
   * holds at the same priority on its pool.
   */
  priority?: Priority;
  /**
   * Aborting it rejects the calls not finished yet with AbortError at once and withdraws their
   * jobs: a job still waiting is removed from the queue; a running one is cancelled on its node
   * (the task sees `isCancelled()` turn true; its job fails and is not retried). Jobs that had
   * finished keep their records.
   */
  signal?: AbortSignal;
  /** BullMQ options for these jobs, over the client's `jobOptions` (not `priority` or `jobId`). */
  job?: Omit<JobsOptions, 'priority' | 'jobId'>;
}

/** A client's calls with options, from {@link ClusterClient.with}. */
export interface ClusterCalls<M> {
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>>;
  runBatch<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<TaskResult<M, K>[]>;
  runBatchSettled<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<PromiseSettledResult<TaskResult<M, K>>[]>;
}

/** The client was closed before the call's result arrived (its job still runs). */
export class ClusterClientClosedError extends ViscoseError {
  constructor() {
    super('VISCOSE_CLIENT_CLOSED', 'the cluster client was closed before the result arrived (the job itself still runs)');
  }
}

const DEFAULT_JOB_OPTIONS: JobsOptions = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } };

/** One call: its job's id and what settles its promise. */
interface ClusterCall {
  id: string;
  outcome: Promise<unknown>;
  /** Settles the call with `outcome`; false if it had settled already. */
  settle(outcome: JobOutcome | Error): boolean;
}

export class ClusterClient<M extends TaskModule = UntypedModule> {
  private readonly abortListeners = new AbortListeners();
  /** Cancels in progress, awaited by close(). */
  private readonly withdrawals = new Set<Promise<void>>();
  private readonly plainCalls: ClusterCalls<M>;
  /** close()'s work, once it was called. */
  private closing: Promise<void> | undefined;
  /** The jobs of calls added and not seen start or finish, while `maxQueue` is finite. */
  private readonly waiting = new Set<string>();

  private constructor(
    private readonly queue: Queue<TaskJobData>,
    private readonly events: QueueEvents,
    private readonly connections: Redis[],
    private readonly jobOptions: JobsOptions,
    private readonly channel: string,
    private readonly watch: ResultWatch,
    private readonly onError: (error: Error) => void,
    private readonly maxQueue: number,
  ) {
    this.plainCalls = this.with({});
    if (maxQueue !== Infinity) events.on('active', ({ jobId }) => this.waiting.delete(jobId));
  }

  /** Connects to the queue; resolves once calls can be made (their outcomes are then all heard). */
  static async connect<M extends TaskModule = UntypedModule>(options: ClusterClientOptions): Promise<ClusterClient<M>> {
    const settings = resolveTable(CLIENT_OPTIONS, options, 'an object with at least `redis` and `queue`');
    const jobOptions = { ...DEFAULT_JOB_OPTIONS, ...settings.jobOptions };
    const { onError, resultCheckInterval: checkInterval } = settings;
    // The queue's connection fails a command after a while without Redis; the events' one blocks.
    const connections = await openConnections(settings, [false, true]);
    const queueOptions = settings.queueOptions ?? {};
    const queue = new Queue<TaskJobData>(settings.queue, { ...queueOptions, connection: connections[0] });
    // A lost connection is retried by ioredis; what it reports goes to onError.
    queue.on('error', onError);
    let events: QueueEvents | undefined;
    try {
      // Read from the stream's present end, fixed now: from '$' (the default) the events of jobs
      // that finish before the first read reaches Redis would be missed.
      const [newest] = await connections[0].xrevrange(queue.keys.events, '+', '-', 'COUNT', 1);
      events = new QueueEvents(settings.queue, {
        prefix: queueOptions.prefix,
        connection: connections[1],
        lastEventId: newest?.[0] ?? '0-0',
      });
      events.on('error', onError);
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    } catch (error) {
      await closeOver(connections, () => Promise.allSettled([events?.close(), queue.close()]));
      throw error;
    }
    const watch = new ResultWatch(queue, events, checkInterval, onError);
    const channel = cancelChannel(settings.queue, queueOptions.prefix);
    return new ClusterClient<M>(queue, events, connections, jobOptions, channel, watch, onError, settings.maxQueue);
  }

  /** Runs `name(...args)` on some node. Rejects with a TaskError whose `cause` is the task's error. */
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>> {
    return this.plainCalls.run(name, ...args);
  }

  /**
   * Runs one call of `name` per argument list, added to the queue in one bulk operation, spread
   * over the nodes. Resolves with the results in order; rejects with the first failure, in order
   * (the other calls still run).
   */
  runBatch<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<TaskResult<M, K>[]> {
    return this.plainCalls.runBatch(name, argsList);
  }

  /** Like runBatch, but settles with every call's outcome, as `Promise.allSettled` does. */
  runBatchSettled<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<PromiseSettledResult<TaskResult<M, K>>[]> {
    return this.plainCalls.runBatchSettled(name, argsList);
  }

  /** The client's calls with options: `client.with({ priority: 'high', signal }).run('resize', image, 200)`. */
  with(options: ClusterCallOptions): ClusterCalls<M> {
    const { priority, signal, job } = resolveTable(CLUSTER_CALL_OPTIONS, options, 'an object of call options');
    const jobOptions: JobsOptions = { ...this.jobOptions, ...job, priority: JOB_PRIORITY[priority] };
    const submit = <K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>, batch: boolean) =>
      this.submit(name, Array.from(argsList) as unknown[][], jobOptions, batch, signal);
    return {
      run: async <K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>) => {
        const [call] = await submit(name, [args], false);
        return (await call) as TaskResult<M, K>;
      },
      runBatch: async <K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>) => {
        const calls = await submit(name, argsList, true);
        return (await Promise.all(calls)) as TaskResult<M, K>[];
      },
      runBatchSettled: async <K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>) =>
        (await Promise.allSettled(await submit(name, argsList, true))) as PromiseSettledResult<TaskResult<M, K>>[],
    };
  }

  /**
   * Stops waiting: calls still waiting for a result reject with ClusterClientClosedError (their
   * jobs still run), cancels in progress finish, and the client's connections close. With Redis
   * unreachable it gives up on BullMQ's close after a few seconds and drops the connections.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.watch.close(new ClusterClientClosedError());
    // BullMQ leaves the connections it was given open: closeOver ends them.
    await closeOver(this.connections, async (reachable) => {
      if (reachable) await Promise.allSettled(this.withdrawals);
      const closing = Promise.all([this.events.close(), this.queue.close()]);
      // Without Redis that would wait for it forever; started, it stops the events' reading loop.
      if (reachable) await closing;
    });
  }

  /**
   * Adds one job per argument list and returns each call's promise once they are in the queue.
   * Every waiter is registered before the add, so no completion can come unheard.
   */
  private async submit(
    name: string,
    argsList: unknown[][],
    jobOptions: JobsOptions,
    batch: boolean,
    signal?: AbortSignal,
  ): Promise<Promise<unknown>[]> {
    if (this.closing !== undefined) throw new ClusterClientClosedError();
    if (signal?.aborted) throw new AbortError(signal.reason);
    if (this.waiting.size + argsList.length > this.maxQueue) throw new QueueFullError(this.maxQueue, 'calls of this client');
    const calls = argsList.map((_, index) => this.expect(name, batch ? index : undefined));
    let added = false;
    /** The calls an abort settled: those not settled before it. Their jobs are withdrawn. */
    let abortedCalls: ClusterCall[] | undefined;
    const forgetAbort =
      signal === undefined
        ? undefined
        : this.abortListeners.add(signal, () => {
            abortedCalls = calls.filter((call) => call.settle(new AbortError(signal.reason)));
            if (added) this.withdraw(abortedCalls, signal.reason);
          });
    try {
      await this.queue.addBulk(
        argsList.map((args, index) => ({ name, data: { task: name, args }, opts: { ...jobOptions, jobId: calls[index].id } })),
      );
    } catch (error) {
      forgetAbort?.();
      for (const { id } of calls) {
        this.watch.forget(id);
        this.waiting.delete(id);
      }
      throw error;
    }
    added = true;
    if (abortedCalls !== undefined) this.withdraw(abortedCalls, signal!.reason);
    for (const { id } of calls) this.watch.added(id);
    if (forgetAbort !== undefined) {
      let unsettled = calls.length;
      const settled = () => {
        if (--unsettled === 0) forgetAbort();
      };
      for (const { outcome } of calls) outcome.then(settled, settled);
    }
    return calls.map(({ outcome }) => outcome);
  }

  /** A call whose promise the job's outcome settles; a failure carries the node's error details. */
  private expect(task: string, index: number | undefined): ClusterCall {
    const id = randomUUID();
    if (this.maxQueue !== Infinity) this.waiting.add(id);
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
    const settle = (result: JobOutcome | Error): boolean => {
      if (settled) return false;
      settled = true;
      this.watch.forget(id);
      this.waiting.delete(id);
      if (result instanceof Error) reject(result);
      else if (result.completed) resolve(result.value);
      else this.failureOf(id, task, result.failedReason, index).then(reject, reject);
      return true;
    };
    this.watch.expect(id, settle);
    return { id, outcome, settle };
  }

  /** Withdraws the jobs of aborted calls, in the background (close() waits for it). */
  private withdraw(calls: ClusterCall[], reason: unknown): void {
    if (calls.length === 0) return;
    const text = reason instanceof Error ? reason.message : String(reason);
    const withdrawal = withdrawJobs(
      this.queue,
      this.connections[0],
      this.channel,
      calls.map(({ id }) => id),
      text,
    ).catch((error: unknown) => this.onError(new Error('viscose: could not withdraw the jobs of aborted calls', { cause: error })));
    this.withdrawals.add(withdrawal);
    void withdrawal.finally(() => this.withdrawals.delete(withdrawal));
  }

  /** The TaskError of a failed job, with the task's error rebuilt from what its node logged. */
  private async failureOf(id: string, task: string, failedReason: string, index: number | undefined): Promise<TaskError> {
    let details: RemoteErrorDetails | undefined;
    try {
      const { logs } = await this.queue.getJobLogs(id);
      const line = logs.find((entry) => entry.startsWith(ERROR_LOG_PREFIX));
      if (line !== undefined) details = JSON.parse(line.slice(ERROR_LOG_PREFIX.length)) as RemoteErrorDetails;
    } catch (error) {
      // The failure is still reported, with BullMQ's failed reason only.
      this.onError(new Error(`viscose: could not read the error details of job ${id}`, { cause: error }));
    }
    return new TaskError(
      task,
      details?.node ?? 'a cluster node',
      details === undefined ? new Error(failedReason) : errorFromDetails(details),
      index,
    );
  }
}
