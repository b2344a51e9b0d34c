/**
 * ParallelProcessor: a stream of requests, each handled by one export of a task module, processed
 * in parallel on a ThreadPool of its own or on a viscose cluster — with a bounded capacity
 * (backpressure), priorities, a cap on concurrent batches, statistics and a monitor hook.
 *
 * Every request takes one permit of the capacity (`maxPendingTasks`) from the moment it is
 * admitted until its result is back; the pool underneath has as many slots, so an admitted
 * request never waits again. A batch takes its permits one request (or one chunk) at a time, so a
 * batch larger than the capacity streams through it.
 */
import { EventEmitter } from 'node:events';
import { PoolClosedError, ProcessingError } from '../errors.js';
import { resolveTable } from '../options/table.js';
import { renderPrometheus } from '../metrics/prometheus.js';
import { type MetricsRegistry, registerFamilies } from '../metrics/prom-client.js';
import { type PoolStatistics, poolMetricFamilies } from '../pool/statistics.js';
import type { ThreadPool } from '../pool/thread-pool.js';
import type { TaskArgs, TaskModule, TaskName, TaskResult, UntypedModule } from '../pool/types.js';
import { Admission } from './admission.js';
import { RequestHandler } from './handling.js';
import { type BatchReport, MonitorHub, batchReport } from './monitor.js';
import { type ClusterProcessorOptions, type OwnSettings, type ProcessorOptions, REQUEST_OPTIONS, type RequestOptions } from './options.js';
import { type ProcessingResult, settleInto } from './results.js';
import { Shutdown } from './shutdown.js';
import { type OpenedSite, type ProcessorCalls, type RequestSite, type Route, openSite } from './site.js';
import { ProcessorRecorder, type ProcessorStatistics, processorMetricFamilies } from './statistics.js';
import { STREAM_OPTIONS, type StreamOptions, orderedResults } from './stream.js';

export type { ProcessingResult } from './results.js';
export type { RequestOptions } from './options.js';

/** The type of `statistics().pool` of a processor whose `pool` is of type `P`: `undefined` on a cluster. */
export type PoolStatisticsOf<P> = P extends undefined ? undefined : PoolStatistics;

/** The request type of handler `K`: its first parameter. */
export type RequestOf<M, K extends TaskName<M>> = TaskArgs<M, K> extends [infer First, ...unknown[]] ? First : TaskArgs<M, K>[0];

/**
 * The processor's events (`processor.on(...)`): `needsDrain` and `drain` when its `needsDrain`
 * turns true and false (once per change, never twice in a row), and `error`, its pool's failures
 * that no request is told of, for as long as the processor has an `error` listener (without one,
 * they go to the pool's `onError` or a process warning). On a cluster there is no `error` event:
 * such failures go to the cluster client's `onError`.
 */
export interface ProcessorEvents {
  drain: [];
  needsDrain: [];
  error: [error: Error];
}

/**
 * `P` is the type of `pool`: the processor's own ThreadPool, or `undefined` for a processor on a
 * cluster (`ParallelProcessor.create({ cluster, ... })`).
 */
export class ParallelProcessor<
  M extends TaskModule = UntypedModule,
  K extends TaskName<M> = TaskName<M>,
  P extends ThreadPool<M> | undefined = ThreadPool<M>,
> extends EventEmitter<ProcessorEvents> {
  private readonly admission: Admission;
  private readonly handler: RequestHandler<M, K>;
  private readonly recorder: ProcessorRecorder;
  private readonly hub: MonitorHub;
  private terminated = false;
  /** Tells the streams to stop reading once the processor (or its pool) is closed. */
  private readonly shutdown = new Shutdown();
  /** Requests and batches under way, for close(). */
  private readonly underWay = new Set<Promise<unknown>>();
  /** Where the requests run: the pool's or the cluster's calls, statistics and end. */
  private readonly site: RequestSite<M>;
  /** The route and calls of requests made without options, made once. */
  private readonly plainRoute: Route;
  private readonly plainCalls: ProcessorCalls<M>;

  private constructor(
    /** The pool the requests run on (its statistics, its own calls); `undefined` on a cluster. */
    readonly pool: P,
    makeSite: OpenedSite<M>['makeSite'],
    private readonly settings: OwnSettings,
  ) {
    super();
    this.recorder = new ProcessorRecorder(settings.statistics);
    this.admission = new Admission(settings, this.recorder, (needsDrain) => this.emit(needsDrain ? 'needsDrain' : 'drain'));
    this.site = makeSite(this, this.recorder);
    this.handler = new RequestHandler<M, K>(settings.handler as K, this.admission, this.recorder);
    this.hub = new MonitorHub(settings.monitor, settings.monitorInterval, () => this.statistics());
    this.plainRoute = { priority: 'normal', signal: undefined, timeout: settings.timeout };
    this.plainCalls = this.site.calls(this.plainRoute);
  }

  /**
   * Starts the pool and checks that the handler is a function the task module exports.
   *
   * @example
   * ```ts
   * const processor = await ParallelProcessor.create<typeof import('./rpc.js'), 'handle'>({
   *   module: new URL('./rpc.js', import.meta.url),
   *   handler: 'handle',
   * });
   * const results = await processor.executeParallelBatch(requests);
   * ```
   */
  static async create<M extends TaskModule = UntypedModule, K extends TaskName<M> = TaskName<M>>(
    options: ProcessorOptions & { handler: K },
  ): Promise<ParallelProcessor<M, K>>;
  /**
   * Processes on a viscose cluster instead of a pool of its own: every method, backpressure,
   * priorities, statistics and events as on a pool, the requests running on the nodes that serve
   * the client's queue. The processor does not own the client: closing the processor leaves it
   * open. Refuses the options of a pool of its own (`module`, `threads`, `threadNamePrefix`,
   * `pool`, `retries`, `timeout`) with an InvalidOptionError. The handler is not checked here (the
   * client does not know the nodes' task module): an unknown one fails each request.
   *
   * @example
   * ```ts
   * type Rpc = typeof import('./rpc.js');
   * const client = await ClusterClient.connect<Rpc>({ redis: 'redis://queue-host:6379', queue: 'rpc' });
   * const processor = await ParallelProcessor.create<Rpc, 'handle'>({ cluster: client, handler: 'handle', maxPendingTasks: 256 });
   * ```
   */
  static async create<M extends TaskModule = UntypedModule, K extends TaskName<M> = TaskName<M>>(
    options: ClusterProcessorOptions<M> & { handler: K },
  ): Promise<ParallelProcessor<M, K, undefined>>;
  static async create<M extends TaskModule, K extends TaskName<M>>(
    options: (ProcessorOptions | ClusterProcessorOptions<M>) & { handler: K },
  ): Promise<ParallelProcessor<M, K, ThreadPool<M> | undefined>> {
    const { pool, settings, makeSite } = await openSite<M>(options);
    return new ParallelProcessor<M, K, ThreadPool<M> | undefined>(pool, makeSite, settings);
  }

  /** The pool's threads; on a cluster, the processor's capacity (`maxPendingTasks`), the most requests it runs at once. */
  get threads(): number {
    return this.site.threads;
  }

  /**
   * Whether a producer should hold back: the capacity is used up, or requests wait for it. The
   * `needsDrain` and `drain` events announce its changes.
   */
  get needsDrain(): boolean {
    return this.admission.needsDrain;
  }

  /** Resolves once `needsDrain` is false. */
  drain(): Promise<void> {
    return this.admission.drain();
  }

  /**
   * Handles one request. Waits for capacity (or fails at once with a `backpressure-exceeded`
   * ProcessingError in `backpressure: 'reject'` mode); rejects with a ProcessingError saying why.
   */
  process(request: RequestOf<M, K>, options?: RequestOptions): Promise<TaskResult<M, K>> {
    const route = this.routeOf(options);
    return this.track(
      this.admission.admit(1, route, this.settings.backpressure, undefined).then((admitted) => {
        if (admitted instanceof ProcessingError) throw admitted;
        return this.handler.handle(request, this.callsFor(route), undefined, admitted);
      }),
    );
  }

  /** Handles one request if capacity is free right now; `undefined` (nothing queued) otherwise. */
  tryProcess(request: RequestOf<M, K>, options?: RequestOptions): Promise<TaskResult<M, K>> | undefined {
    const route = this.routeOf(options);
    this.recorder.submitted();
    if (this.terminated || !this.admission.tryAdmitOne()) {
      this.recorder.failedWith('backpressure-exceeded');
      return undefined;
    }
    return this.track(this.handler.handle(request, this.callsFor(route), undefined, 0));
  }

  /**
   * Handles every request, each on its own, and resolves with one result per request, in order.
   * One failing request never fails the batch. A batch waits its turn behind
   * `maxConcurrentBatches` others; in `backpressure: 'reject'` mode it is refused instead (the
   * promise rejects with a `backpressure-exceeded` ProcessingError, nothing having run).
   */
  executeParallelBatch(requests: Iterable<RequestOf<M, K>>, options?: RequestOptions): Promise<ProcessingResult<TaskResult<M, K>>[]> {
    const route = this.routeOf(options);
    const list = Array.from(requests);
    return this.track(
      this.inTurn(route, 'parallel', list.length, async (results, calls) => {
        const handled: Promise<void>[] = [];
        for (let index = 0; index < list.length; index++) {
          const admitted = this.admission.admitAtOnce(1) ? 0 : await this.admission.admit(1, route, 'wait', index);
          if (admitted instanceof ProcessingError) {
            results[index] = { ok: false, error: admitted, index };
            continue;
          }
          handled.push(settleInto(results, index, this.handler.handle(list[index], calls, index, admitted)));
        }
        await Promise.all(handled);
      }),
    );
  }

  /**
   * Like executeParallelBatch, but sends the requests to the pool in chunks of `batchSize`: one
   * slot, one encoding and one wake per chunk instead of per request, which is what makes small
   * requests cheap. Every request of a chunk runs whatever happens to the others.
   */
  executeChunkedParallel(requests: Iterable<RequestOf<M, K>>, options?: RequestOptions): Promise<ProcessingResult<TaskResult<M, K>>[]> {
    const route = this.routeOf(options);
    const list = Array.from(requests);
    // A chunk never asks for more permits than exist (a pool sends it as one pool chunk).
    const chunkSize = Math.min(this.settings.batchSize, this.settings.maxPendingTasks);
    return this.track(
      this.inTurn(route, 'chunked', list.length, async (results, calls) => {
        const handled: Promise<void>[] = [];
        for (let start = 0; start < list.length; ) {
          const count = Math.min(chunkSize, list.length - start);
          const admitted = await this.admission.admit(count, route, 'wait', start);
          if (admitted instanceof ProcessingError) {
            for (let i = 0; i < count; i++) results[start + i] = { ok: false, error: admitted, index: start + i };
          } else {
            handled.push(this.handler.handleChunk(list.slice(start, start + count), calls, route.timeout !== Infinity, start, results));
          }
          start += count;
        }
        await Promise.all(handled);
      }),
    );
  }

  /**
   * Handles the requests of `source` (an async iterable, a Node Readable in object mode, or an
   * iterable) as they come, with at most `maxPendingTasks` of them in flight, and yields one
   * result per request: in input order (default) or in completion order. Memory stays bounded
   * whatever the source's length: a request is read only when a permit is free, and in input
   * order, only when fewer than `maxPendingTasks` results wait to be yielded. Leaving the loop
   * early stops reading the source (its `return()` is called); requests in flight still finish.
   *
   * Every request read is yielded, whatever happens. When the source throws, the stream reads no
   * more, yields the outcome of every request it read, then rethrows the source's error. When the
   * processor is closed or terminated (or its pool is), the stream reads no more and calls the
   * source's `return()`, yields the outcome of every request it read, then throws a
   * PoolClosedError, unless it had already seen the source's end. Aborting `options.signal` does
   * the same, cancelling what is in flight, and the stream throws an AbortError.
   */
  stream(
    source: AsyncIterable<RequestOf<M, K>> | Iterable<RequestOf<M, K>>,
    options: StreamOptions = {},
  ): AsyncIterableIterator<ProcessingResult<TaskResult<M, K>>> {
    const { priority, signal, timeout, order, onEvent } = resolveTable(STREAM_OPTIONS, options, 'an object of stream options');
    const route: Route = { priority, signal, timeout: timeout ?? this.settings.timeout, onEvent };
    this.site.check(route);
    const calls = this.callsFor(route);
    return orderedResults(source, {
      order,
      window: this.settings.maxPendingTasks,
      stopped: () => this.shutdown.reason,
      signal,
      watch: (wake) => this.shutdown.watch(wake),
      unwatch: (wake) => this.shutdown.unwatch(wake),
      start: (request, index) =>
        this.track(
          this.admission.admit(1, route, 'wait', index).then((admitted) => {
            if (admitted instanceof ProcessingError) return { ok: false, error: admitted, index };
            return this.handler.handle(request, calls, index, admitted).then(
              (value): ProcessingResult<TaskResult<M, K>> => ({ ok: true, value, index }),
              (error: ProcessingError): ProcessingResult<TaskResult<M, K>> => {
                // The pool (or cluster client) was closed under the processor: it will run nothing more.
                const closed = this.site.closedUnder(error);
                if (closed !== undefined) this.shutdown.begin(closed);
                return { ok: false, error, index };
              },
            );
          }),
        ),
    });
  }

  /** Counts, batch efficiencies, latencies, and the pool's own statistics (`pool`, undefined on a cluster). */
  statistics(): ProcessorStatistics<PoolStatisticsOf<P>> {
    return this.recorder.read(this.admission.occupancy, this.site.statistics() as PoolStatisticsOf<P>);
  }

  /**
   * Starts a new statistics interval for the processor and its pool. Requests under way are
   * counted when they end: reset while nothing is under way for counts that add up.
   */
  resetStatistics(): void {
    this.recorder.reset();
    this.site.resetStatistics();
  }

  /**
   * `statistics()` in the Prometheus text format: the pool's metrics (none on a cluster), then
   * `viscose_processor_*`.
   */
  metrics(): string {
    return renderPrometheus(this.metricFamilies());
  }

  /**
   * Adds the metrics of `metrics()` to a prom-client `Registry`, read afresh at every scrape.
   * Returns a function that removes them again. Throws MetricNameTakenError, registering nothing,
   * if one of their names is taken.
   */
  registerMetrics(registry: MetricsRegistry): () => void {
    return registerFamilies(registry, () => this.metricFamilies());
  }

  private metricFamilies() {
    const statistics: ProcessorStatistics<PoolStatistics | undefined> = this.statistics();
    const pool = statistics.pool === undefined ? [] : poolMetricFamilies(statistics.pool);
    return [...pool, ...processorMetricFamilies(statistics)];
  }

  /**
   * Waits for every request and batch under way, then closes the pool (a cluster client stays
   * open: the processor does not own it). New requests are refused; streams read no more of their
   * sources and end with a PoolClosedError once they have yielded every request they read.
   */
  async close(): Promise<void> {
    this.shutdown.begin('the processor was closed');
    this.admission.close(new ProcessingError('thread-pool-error', 'the processor is closed', { cause: new PoolClosedError() }));
    while (this.underWay.size > 0) await Promise.allSettled([...this.underWay]);
    this.hub.stop();
    await this.site.close();
  }

  /**
   * Stops now: waiting requests fail with `cancelled`, running ones with the pool's closing error
   * (`cancelled` too; on a cluster their jobs are withdrawn, and the client stays open). Streams
   * read no more, yield those failures and end with a PoolClosedError.
   */
  async terminate(): Promise<void> {
    this.terminated = true;
    this.shutdown.begin('the processor was terminated');
    const cancelled = new ProcessingError('cancelled', 'the processor was terminated before the request ran');
    this.admission.close(cancelled);
    this.hub.stop();
    await this.site.terminate();
    await Promise.allSettled([...this.underWay]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private routeOf(options: RequestOptions | undefined): Route {
    if (options === undefined) return this.plainRoute;
    const { priority, signal, timeout, onEvent } = resolveTable(REQUEST_OPTIONS, options, 'an object of request options');
    const route = { priority, signal, timeout: timeout ?? this.settings.timeout, onEvent };
    this.site.check(route);
    return route;
  }

  private callsFor(route: Route): ProcessorCalls<M> {
    return route === this.plainRoute ? this.plainCalls : this.site.calls(route);
  }

  // ---- batches ---------------------------------------------------------------------------------

  /**
   * Runs `body` when the batch's turn comes (at most `maxConcurrentBatches` at once), then reports
   * the batch. `body` fills the results, running the requests through the pool calls it is given,
   * which add up how long the handlers ran.
   */
  private async inTurn<R>(
    route: Route,
    kind: BatchReport['kind'],
    size: number,
    body: (results: ProcessingResult<R>[], calls: ProcessorCalls<M>) => Promise<void>,
  ): Promise<ProcessingResult<R>[]> {
    await this.admission.takeTurn(size, route);
    try {
      const started = performance.now();
      const results = new Array<ProcessingResult<R>>(size);
      this.recorder.batchStarted(started);
      let runMs = 0;
      const calls = this.site.calls(route, (ms) => (runMs += ms));
      try {
        await body(results, calls);
      } finally {
        this.recorder.batchEnded(performance.now());
      }
      const report = batchReport(kind, results, performance.now() - started, runMs, this.site.threads);
      this.recorder.batch(report);
      this.hub.batchCompleted(report);
      return results;
    } finally {
      this.admission.endTurn();
    }
  }

  /** Keeps `promise` in the set close() waits for while it runs. */
  private track<T>(promise: Promise<T>): Promise<T> {
    this.underWay.add(promise);
    const forget = () => this.underWay.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}
