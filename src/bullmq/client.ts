/**
 * The client of a viscose cluster: the `run` / `runBatch` of a local pool, over a BullMQ queue that
 * nodes (node.ts) serve. Calls go to the queue as jobs, one per call or one per chunk of calls
 * (client-jobs.ts); results come back through BullMQ's queue events.
 */
import { type JobsOptions, Queue, QueueEvents, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { AbortError, ClusterClientClosedError, QueueFullError } from '../errors.js';
import { resolveTable } from '../options/table.js';
import { AbortListeners } from '../pool/abort-listeners.js';
import type { TaskArgs, TaskModule, TaskName, TaskResult, UntypedModule } from '../pool/types.js';
import type { Priority } from '../queue/priority.js';
import { withdrawJobs } from './cancellation.js';
import { type RedisLocation, closeOver, openConnections } from './connections.js';
import { ChunkSizer } from './chunk-size.js';
import { CallOutcomes } from './call-outcomes.js';
import { type ClusterJob, failJob, failureOf, formOf, jobsOf, settleChunk } from './client-jobs.js';
import { JobArgs } from './job-args.js';
import { CallCoalescer } from './coalescing.js';
import { JOB_PRIORITY, type TaskJobData, cancelChannel } from './jobs.js';
import { type JobOutcome, ResultWatch } from './results.js';
import { BackgroundRequests } from './background.js';
import { CLIENT_OPTIONS, CLUSTER_CALL_OPTIONS } from './options.js';

export interface ClusterClientOptions extends RedisLocation {
  /** The BullMQ queue's name, the one the nodes serve. */
  queue: string;
  /**
   * BullMQ options for every job (`attempts`, `backoff`, `removeOnComplete`, ...), but not
   * `priority` or `jobId`: a call's priority is set with {@link ClusterClient.with}, and the client
   * names its jobs. By default this client removes a completed job's record once it has read the
   * result (a chunk's record holds all its calls' arguments and results: kept, sustained batches
   * would fill Redis's memory), else after an hour (a client that looks a result up late still
   * finds it), and a failed one after a day. With `removeOnComplete` set, here or in a call's `job`
   * option, BullMQ's rule alone applies.
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
  /**
   * Calls per job in `runBatch`, `runBatchSettled`, and among `run` calls of one task made in the
   * same turn: a number, or `'auto'` (the default) to size chunks from what they cost — large
   * enough that a job's Redis round trips (about a millisecond) are under 5 % of its calls' run
   * time as the nodes report it per task, at most 4,096 calls, and small enough that a batch makes
   * at least 16 jobs, and 8 per node seen lately, and that a job's arguments (judged from the
   * first, middle and last call's) stay within 1 MiB packed, or 120 KiB in JSON. 1 makes a job per
   * call.
   */
  chunkSize?: number | 'auto';
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

const DEFAULT_JOB_OPTIONS: JobsOptions = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } };

/** How a call's options reach the queue: the jobs' options, and the signal that withdraws them. */
interface CallRoute {
  jobOptions: JobsOptions;
  signal: AbortSignal | undefined;
  /** Equal for routes whose `run` calls may share a job. */
  key: string;
  /** Whether a completed job's record is removed once its result is read (no `removeOnComplete` given). */
  removeWhenRead: boolean;
}

export class ClusterClient<M extends TaskModule = UntypedModule> {
  private readonly abortListeners = new AbortListeners();
  private readonly background: BackgroundRequests;
  private readonly plainCalls: ClusterCalls<M>;
  /** close()'s work, once it was called. */
  private closing: Promise<void> | undefined;
  /** While `maxQueue` is finite: per job added and neither seen start nor settled, its calls. */
  private readonly waitingJobs = new Map<string, number>();
  private waitingCalls = 0;
  private readonly coalescer = new CallCoalescer();
  /** Tells apart the signals of coalesced calls (calls with different signals never share a job). */
  private readonly signalKeys = new WeakMap<AbortSignal, number>();

  private constructor(
    private readonly queue: Queue<TaskJobData>,
    private readonly events: QueueEvents,
    private readonly connections: Redis[],
    private readonly jobOptions: JobsOptions,
    private readonly channel: string,
    private readonly watch: ResultWatch,
    private readonly onError: (error: Error) => void,
    private readonly maxQueue: number,
    private readonly sizer: ChunkSizer,
    private readonly args: JobArgs,
  ) {
    this.plainCalls = this.with({});
    this.background = new BackgroundRequests(onError);
    if (maxQueue !== Infinity) events.on('active', ({ jobId }) => this.started(jobId));
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
    const sizer = new ChunkSizer(settings.chunkSize === 'auto' ? undefined : settings.chunkSize);
    const args = new JobArgs(connections[0], settings.queue, queueOptions.prefix);
    return new ClusterClient<M>(queue, events, connections, jobOptions, channel, watch, onError, settings.maxQueue, sizer, args);
  }

  /**
   * Runs `name(...args)` on some node. Rejects with a TaskError whose `cause` is the task's error.
   * Calls of one task made in the same turn (with the same options) are added together, and share
   * jobs as a batch's calls do (`chunkSize`); each keeps its own result.
   */
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>> {
    return this.plainCalls.run(name, ...args);
  }

  /**
   * Runs one call of `name` per argument list, in jobs of `chunkSize` calls spread over the
   * nodes, added in a few bulk operations of doubling size (the nodes start on the first jobs
   * while the others are encoded). Resolves with the results in order; rejects with
   * the first failure, in order (the other calls still run).
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
    const jobOptions = { ...this.jobOptions, ...job, priority: JOB_PRIORITY[priority] };
    const route: CallRoute = {
      jobOptions,
      signal,
      key: `${priority} ${signal === undefined ? '' : this.signalKey(signal)} ${job === undefined ? '' : JSON.stringify(job)}`,
      // The client's own default, not a removeOnComplete given here or to the client.
      removeWhenRead: jobOptions.removeOnComplete === DEFAULT_JOB_OPTIONS.removeOnComplete,
    };
    const submit = <K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>) => {
      const list = Array.from(argsList) as unknown[][];
      return this.submit(name, list, route, new CallOutcomes(list.length, true));
    };
    return {
      run: <K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>) => this.gather(name, args, route) as Promise<TaskResult<M, K>>,
      runBatch: async <K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>) =>
        (await (await submit(name, argsList)).whenAll()) as TaskResult<M, K>[],
      runBatchSettled: async <K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>) =>
        (await (await submit(name, argsList)).whenSettled()) as PromiseSettledResult<TaskResult<M, K>>[],
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
      if (reachable) await this.background.settled();
      const closing = Promise.all([this.events.close(), this.queue.close()]);
      // Without Redis that would wait for it forever; started, it stops the events' reading loop.
      if (reachable) await closing;
    });
  }

  /** A `run` call, gathered with the other calls of its task and route made in this turn. */
  private gather(task: string, args: unknown[], route: CallRoute): Promise<unknown> {
    try {
      this.refuseNow(route.signal, 1);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.coalescer.gather(`${route.key} ${task}`, task, args, async (_, argsList, listener) => {
      await this.submit(task, argsList, route, new CallOutcomes(argsList.length, false, listener));
    });
  }

  /** Throws why calls cannot be added now: the client closed, the signal aborted, `maxQueue` reached. */
  private refuseNow(signal: AbortSignal | undefined, calls: number): void {
    if (this.closing !== undefined) throw new ClusterClientClosedError();
    if (signal?.aborted) throw new AbortError(signal.reason);
    if (this.waitingCalls + this.coalescer.gathered + calls > this.maxQueue)
      throw new QueueFullError(this.maxQueue, 'calls of this client');
  }

  /**
   * Adds the jobs of the calls of `argsList`, whose outcomes go to `outcomes`, and returns it once
   * they are in the queue. Every job's waiter is registered before the add, so no completion can
   * come unheard. If Redis refuses the first jobs, it throws; if it refuses later ones, the calls
   * of those fail with its error and the others run.
   */
  private async submit(task: string, argsList: unknown[][], route: CallRoute, outcomes: CallOutcomes): Promise<CallOutcomes> {
    const { signal, jobOptions } = route;
    // Gathered calls were counted when they were made.
    this.refuseNow(signal, outcomes.indexed ? argsList.length : 0);
    const jobs = jobsOf(task, argsList, outcomes, this.sizer.sizeFor(task, argsList));
    for (const job of jobs) this.expect(job, route.removeWhenRead);
    /** Jobs `[0, added)` are in the queue. */
    let added = 0;
    /** The jobs whose calls an abort settled: those with a call not settled before it. */
    let abortedJobs: Set<ClusterJob> | undefined;
    const forgetAbort =
      signal === undefined
        ? undefined
        : this.abortListeners.add(signal, () => {
            abortedJobs = new Set(jobs.filter((job) => outcomes.pendingIn(job.start, job.count)));
            for (const job of abortedJobs) {
              this.forget(job.id);
              failJob(job, new AbortError(signal.reason));
            }
            // Those not added yet never will be.
            this.withdraw(
              jobs.slice(0, added).filter((job) => abortedJobs!.has(job)),
              signal.reason,
            );
          });
    // In groups of doubling size, so that the nodes start on the first chunks while the client
    // still encodes the others.
    for (let size = 1; added < jobs.length && abortedJobs === undefined; size *= 2) {
      const group = jobs.slice(added, added + size);
      const forms = group.map(formOf);
      const packed = group.flatMap(({ id }, i) => (forms[i].args === undefined ? [] : [[id, forms[i].args] as const]));
      try {
        await this.args.write(packed);
        await this.queue.addBulk(group.map(({ id }, i) => ({ name: task, data: forms[i].data, opts: { ...jobOptions, jobId: id } })));
      } catch (error) {
        this.background.add(
          this.args.delete(packed.map(([id]) => id)),
          'viscose: could not delete the arguments of jobs that were not added',
        );
        for (const job of jobs.slice(added)) this.forget(job.id);
        if (added === 0) {
          forgetAbort?.();
          throw error;
        }
        // The calls already in the queue still run: only those whose jobs could not be added fail.
        for (const job of jobs.slice(added)) failJob(job, error instanceof Error ? error : new Error(String(error)));
        break;
      }
      added += group.length;
      for (const { id } of group) this.watch.added(id);
      if (abortedJobs !== undefined)
        this.withdraw(
          group.filter((job) => abortedJobs!.has(job)),
          signal!.reason,
        );
    }
    if (forgetAbort !== undefined) void outcomes.whenSettled().then(forgetAbort);
    return outcomes;
  }

  /** Waits for `job`'s outcome, which settles its calls; counts it among the waiting ones. */
  private expect(job: ClusterJob, removeWhenRead: boolean): void {
    if (this.maxQueue !== Infinity) {
      this.waitingJobs.set(job.id, job.count);
      this.waitingCalls += job.count;
    }
    this.watch.expect(job.id, (outcome) => {
      this.settle(job, outcome);
      if (removeWhenRead && !(outcome instanceof Error) && outcome.completed) this.removeRecord(job);
    });
  }

  private settle(job: ClusterJob, outcome: JobOutcome | Error): void {
    this.forget(job.id);
    if (outcome instanceof Error) {
      failJob(job, outcome);
    } else if (!outcome.completed) {
      void failureOf(this.queue, job.id, outcome.failedReason, this.onError).then((details) => failJob(job, details));
    } else if (!job.chunk) {
      job.outcomes.fulfil(job.start, outcome.value);
    } else {
      const result = settleChunk(job, outcome.value);
      if (result !== undefined) this.sizer.learn(job.task, result);
    }
  }

  /** Stops waiting for job `id` and counting it. */
  private forget(id: string): void {
    this.watch.forget(id);
    this.started(id);
  }

  /** Job `id` started on a node (or settled): it no longer counts against `maxQueue`. */
  private started(id: string): void {
    const calls = this.waitingJobs.get(id);
    if (calls === undefined) return;
    this.waitingJobs.delete(id);
    this.waitingCalls -= calls;
  }

  private signalKey(signal: AbortSignal): number {
    let key = this.signalKeys.get(signal);
    if (key === undefined) {
      key = nextSignalKey++;
      this.signalKeys.set(signal, key);
    }
    return key;
  }

  /** Withdraws the jobs of aborted calls, in the background (close() waits for it). */
  private withdraw(jobs: ClusterJob[], reason: unknown): void {
    if (jobs.length === 0) return;
    const text = reason instanceof Error ? reason.message : String(reason);
    const ids = jobs.map(({ id }) => id);
    this.background.add(
      withdrawJobs(this.queue, this.args, this.connections[0], this.channel, ids, text),
      'viscose: could not withdraw the jobs of aborted calls',
    );
  }

  /** Removes the record of completed `job`, whose result this client has read, and a chunk's arguments. */
  private removeRecord({ id, chunk }: ClusterJob): void {
    const removals = [this.queue.remove(id), chunk ? this.args.delete([id]) : undefined];
    this.background.add(Promise.all(removals), `viscose: could not remove the record of job ${id}, whose result was read`);
  }
}

let nextSignalKey = 0;
