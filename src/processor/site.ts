/**
 * Where a processor's requests run: a pool of its own, or a viscose cluster whose client it was
 * given. The processor owns admission, batches, streams and its own statistics either way; a site
 * owns what depends on where the requests run — the calls with the pool's call options, the
 * pool's statistics and events, and what closing and terminating do to the requests in flight.
 */
import { ClusterClientClosedError, InvalidOptionError, PoolClosedError, type ProcessingError, UnknownTaskError } from '../errors.js';
import { forwardErrors } from '../pool/pool-events.js';
import type { PoolStatistics } from '../pool/statistics.js';
import { ThreadPool } from '../pool/thread-pool.js';
import type { CallObserver, TaskArgs, TaskModule, TaskName, TaskResult } from '../pool/types.js';
import type { Priority } from '../queue/priority.js';
import {
  type ClusterProcessorOptions,
  type OwnSettings,
  type ProcessorOptions,
  type RequestOptions,
  resolveClusterProcessorOptions,
  resolveProcessorOptions,
} from './options.js';
import type { ProcessorRecorder } from './statistics.js';

/** The calls a processor makes where its requests run: those of a pool's and of a cluster client's `with()`. */
export interface ProcessorCalls<M> {
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>>;
  runBatchSettled<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<PromiseSettledResult<TaskResult<M, K>>[]>;
}

/**
 * What a processor needs of a cluster: calls with a priority and an abort signal. The
 * `ClusterClient` of `viscose/bullmq` is one (a `ThreadPool` too); the processor takes it by this
 * shape, so that `viscose` does not load BullMQ.
 */
export interface ProcessorCluster<M> {
  with(options: { priority: Priority; signal: AbortSignal | undefined }): ProcessorCalls<M>;
}

/** How the requests of one call travel: their priority, their caller's signal, their run-time limit, their events' listener. */
export interface Route {
  priority: Priority;
  signal: AbortSignal | undefined;
  /** Infinity for none. */
  timeout: number;
  onEvent?: RequestOptions['onEvent'];
}

/** Where the requests run, as the processor sees it. */
export interface RequestSite<M> {
  /** The most requests that run at once: the pool's threads, or on a cluster the processor's capacity. */
  readonly threads: number;
  /** The calls that run the requests of `route`; `ran` adds up the handlers' run time, where it is known. */
  calls(route: Route, ran?: CallObserver['ran']): ProcessorCalls<M>;
  /** Throws InvalidOptionError if the requests of `route` cannot run here as asked. */
  check(route: Route): void;
  /** The pool's statistics; undefined on a cluster. */
  statistics(): PoolStatistics | undefined;
  resetStatistics(): void;
  /** Why the site runs nothing more, if `failure` says so: its pool (or client) closed under the processor. */
  closedUnder(failure: ProcessingError): string | undefined;
  /** After the requests under way ended: closes what the processor owns. */
  close(): Promise<void>;
  /** Makes the requests in flight fail now (`cancelled`), and closes what the processor owns. */
  terminate(): Promise<void>;
}

export interface PoolSiteSettings {
  retries: number;
  /** Requests per pool chunk (`executeChunkedParallel`). */
  chunkSize: number;
  /** Counts the requests run again because their worker crashed. */
  retrying: (requests: number) => void;
}

/** A pool the processor created and owns: it closes with the processor, and its errors are the processor's `error` events. */
export class PoolSite<M extends TaskModule> implements RequestSite<M> {
  constructor(
    private readonly pool: ThreadPool<M>,
    private readonly settings: PoolSiteSettings,
    errorsTo: Parameters<typeof forwardErrors>[1],
  ) {
    forwardErrors(pool, errorsTo);
  }

  get threads(): number {
    return this.pool.threads;
  }

  calls(route: Route, ran?: CallObserver['ran']): ProcessorCalls<M> {
    return this.pool.with({
      priority: route.priority,
      signal: route.signal,
      timeout: route.timeout,
      retries: this.settings.retries,
      chunkSize: this.settings.chunkSize,
      observer: { retrying: this.settings.retrying, ran },
      onEvent: route.onEvent,
    });
  }

  check(): void {}

  statistics(): PoolStatistics {
    return this.pool.statistics();
  }

  resetStatistics(): void {
    this.pool.resetStatistics();
  }

  closedUnder(failure: ProcessingError): string | undefined {
    return failure.cause instanceof PoolClosedError ? "the processor's pool was closed" : undefined;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  terminate(): Promise<void> {
    return this.pool.terminate();
  }
}

/**
 * A cluster whose client the processor was given and does not own: closing the processor leaves
 * the client open. Terminating the processor aborts its requests in flight (their jobs are
 * withdrawn, a running handler sees `isCancelled()`), through a signal every call carries.
 */
export class ClusterSite<M> implements RequestSite<M> {
  private readonly stopping = new AbortController();
  /** Per caller's signal, the one that also aborts on terminate (one per signal, so that calls still share jobs). */
  private readonly combined = new WeakMap<AbortSignal, AbortSignal>();

  constructor(
    private readonly cluster: ProcessorCluster<M>,
    readonly threads: number,
  ) {}

  /** The nodes do not report how long the handlers ran: `ran` is never told. */
  calls(route: Route): ProcessorCalls<M> {
    return this.cluster.with({ priority: route.priority, signal: this.signalOf(route.signal) });
  }

  check(route: Route): void {
    if (route.timeout !== Infinity) throw new InvalidOptionError('timeout', TIMEOUT_ON_A_CLUSTER);
    if (route.onEvent !== undefined) throw new InvalidOptionError('onEvent', ON_EVENT_ON_A_CLUSTER);
  }

  statistics(): undefined {
    return undefined;
  }

  resetStatistics(): void {}

  closedUnder(failure: ProcessingError): string | undefined {
    return failure.cause instanceof ClusterClientClosedError ? "the processor's cluster client was closed" : undefined;
  }

  async close(): Promise<void> {}

  async terminate(): Promise<void> {
    this.stopping.abort(new Error('the processor was terminated'));
  }

  private signalOf(signal: AbortSignal | undefined): AbortSignal {
    if (signal === undefined) return this.stopping.signal;
    let combined = this.combined.get(signal);
    if (combined === undefined) {
      combined = AbortSignal.any([signal, this.stopping.signal]);
      this.combined.set(signal, combined);
    }
    return combined;
  }
}

/** Why a processor on a cluster refuses `timeout`. */
export const TIMEOUT_ON_A_CLUSTER =
  "a processor on a cluster has no `timeout`: a pool counts it from when a worker starts the request, and the cluster client does not tell when a node starts a job, so the processor could only count the job's wait in the queue too; use `signal` (e.g. AbortSignal.timeout(ms)) for a deadline that includes it";

/** Why a processor on a cluster refuses `onEvent`. */
export const ON_EVENT_ON_A_CLUSTER =
  'a processor on a cluster has no `onEvent`: the events a handler emits on a node do not travel back to the client';

/** What a processor runs on: its pool (undefined on a cluster), its settings, and how to make its site once it exists. */
export interface OpenedSite<M extends TaskModule> {
  pool: ThreadPool<M> | undefined;
  settings: OwnSettings;
  makeSite: (errorsTo: Parameters<typeof forwardErrors>[1], recorder: ProcessorRecorder) => RequestSite<M>;
}

/**
 * Resolves a processor's options and opens where its requests run: the cluster it was given, or a
 * pool of its own, started, whose task module must export the handler.
 */
export async function openSite<M extends TaskModule>(options: ProcessorOptions | ClusterProcessorOptions<M>): Promise<OpenedSite<M>> {
  if (options !== null && typeof options === 'object' && 'cluster' in options) {
    const settings = resolveClusterProcessorOptions(options as ClusterProcessorOptions<unknown>);
    const cluster = settings.cluster as ClusterProcessorOptions<M>['cluster'];
    return {
      pool: undefined,
      settings: { ...settings, timeout: Infinity },
      makeSite: () => new ClusterSite<M>(cluster, settings.maxPendingTasks),
    };
  }
  const settings = resolveProcessorOptions(options as ProcessorOptions);
  const pool = await ThreadPool.create<M>(settings.poolOptions);
  if (!pool.tasks.includes(settings.handler)) {
    await pool.close();
    throw new UnknownTaskError(settings.handler, pool.tasks);
  }
  const makeSite: OpenedSite<M>['makeSite'] = (errorsTo, recorder) =>
    new PoolSite(
      pool,
      {
        retries: settings.retries,
        // A chunk never asks for more permits than exist, and travels as one pool chunk.
        chunkSize: Math.min(settings.batchSize, settings.maxPendingTasks),
        retrying: (requests) => recorder.retried(requests),
      },
      errorsTo,
    );
  return { pool, settings, makeSite };
}
