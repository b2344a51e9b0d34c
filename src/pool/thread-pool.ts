/**
 * The pool: worker threads that share one SharedArrayBuffer of task slots and queues, run the
 * exported functions of a task module, and hand results back without a message per task.
 */
import { EventEmitter } from 'node:events';
import type { IterSource, ItemOf, PoolParIter } from '../iter/par-iter.js';
import type { MessageCounts } from '../control/endpoint.js';
import { installErrorTransfer } from '../control/error-transfer.js';
import type { StartReport, WorkerControl, WorkerSnapshot } from '../control/protocol.js';
import type { Remote } from 'comlink';
import { InvalidOptionError, PoolClosedError, StartTimeoutError, ThreadPoolError, messageOf } from '../errors.js';
import { NORMAL_LEVEL } from '../queue/priority.js';
import type { MainForkJoin } from './main-fork-join.js';
import { type CallRunner, PLAIN_BATCH, PLAIN_RUN, SETTLED_BATCH } from './call-runner.js';
import { batchWith, callsWith, resolveCallOptions } from './call-options.js';
import { PACKED_BATCH, type PackedBatch } from './calls.js';
import { DataPlane } from './data-plane.js';
import type { CloseOptions, Lifecycle } from './lifecycle.js';
import type { DrainEdge } from './drain-edge.js';
import type { PoolEvents } from './pool-events.js';
import { wirePool } from './pool-wiring.js';

export type { CloseOptions } from './lifecycle.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { type PoolStatistics, type StatisticsReader, poolMetricFamilies } from './statistics.js';
import { renderPrometheus } from '../metrics/prometheus.js';
import { type MetricsRegistry, registerFamilies } from '../metrics/prom-client.js';
import { type ThreadPoolOptions, type ThreadPoolSettings, resolveOptions } from './options.js';
import type {
  CallOptions,
  PoolCall,
  PoolCalls,
  PoolScope,
  PoolScopeFifo,
  TaskArgs,
  TaskModule,
  TaskName,
  TaskResult,
  UntypedModule,
} from './types.js';
import { WorkerSet } from './worker-set.js';
import type { MainSort } from '../sort/main-sort.js';
import type { CompareTaskName } from '../iter/par-iter-types.js';
import type { NumericArray, SortItem } from '../sort/sortable.js';

/**
 * A pool of worker threads running the tasks of one module. It is an EventEmitter of PoolEvents:
 * `drain`, `needsDrain`, `error`, `workerCreate`, `workerExit` (docs/guide/pool.md, "Events").
 *
 * @typeParam M - the task module's type, `typeof import('./tasks.js')`, which types `run` and
 * `runBatch`. Without it, any name is accepted and results are `unknown`.
 *
 * @example
 * ```ts
 * const pool = await ThreadPool.create<typeof import('./tasks.js')>({
 *   module: new URL('./tasks.js', import.meta.url),
 * });
 * const size = await pool.run('resize', image, 200);
 * await pool.close();
 * ```
 */
export class ThreadPool<M extends TaskModule = UntypedModule> extends EventEmitter<PoolEvents> {
  /** Export names of the task module's functions, sorted. */
  readonly tasks: readonly string[];
  /** Names of the worker threads, by index. */
  readonly threadNames: readonly string[];

  private readonly workers: WorkerSet;
  private readonly life: Lifecycle;
  private readonly forks: MainForkJoin<M>;
  private readonly sorts: MainSort;
  private readonly runner: CallRunner<M>;
  private readonly statisticsReader: StatisticsReader;
  private readonly drainEdge: DrainEdge;
  private readonly report: (error: unknown) => void;

  private constructor(
    /** The options in effect, every default filled in. */
    readonly settings: Readonly<ThreadPoolSettings>,
    private readonly plane: DataPlane,
    workers: WorkerSet,
    report: StartReport,
  ) {
    super();
    this.workers = workers;
    this.tasks = report.tasks;
    this.threadNames = settings.names;
    ({
      life: this.life,
      runner: this.runner,
      forks: this.forks,
      sorts: this.sorts,
      statisticsReader: this.statisticsReader,
      drainEdge: this.drainEdge,
      report: this.report,
    } = wirePool<M>(settings, plane, workers, report, this));
  }

  /**
   * Starts the worker threads, loads the task module in each, runs the start handlers, and
   * resolves once every worker is ready to take work.
   *
   * @throws InvalidOptionError for an invalid option, naming it.
   * @throws ThreadPoolError when a worker cannot start (the module fails to load, a start handler
   * throws, the workers disagree on the module's exports).
   */
  static async create<M extends TaskModule = UntypedModule>(options: ThreadPoolOptions): Promise<ThreadPool<M>> {
    const resolved = resolveOptions(options);
    installErrorTransfer();
    const plane = new DataPlane(resolved);
    try {
      const { workers, report } = await WorkerSet.start(plane, resolved.minThreads, resolved.moduleUrl);
      return new ThreadPool<M>(resolved, plane, workers, report);
    } catch (error) {
      plane.dispose();
      if (error instanceof ThreadPoolError || error instanceof StartTimeoutError || error instanceof InvalidOptionError) throw error;
      throw new ThreadPoolError(`the pool could not start: ${messageOf(error)}`, { cause: error });
    }
  }

  /** Number of worker threads: `settings.threads`, or those an elastic pool runs now. */
  get threads(): number {
    return this.workers.all.length;
  }

  /**
   * Whether a producer should hold back: every task slot (`maxPendingTasks`) is taken, so a call
   * made now waits for one (or is refused, past `maxQueue`). `drain` is emitted when it turns
   * false, `needsDrain` when it turns true.
   */
  get needsDrain(): boolean {
    return this.plane.dispatcher.free.full;
  }

  /** Resolves once `needsDrain` is false (at once if it is now). */
  drain(): Promise<void> {
    return this.drainEdge.drain();
  }

  /** Tasks (or batch chunks) accepted and not finished, including those waiting for a slot. */
  get pending(): number {
    return this.plane.dispatcher.outstanding;
  }

  /**
   * Control-plane messages exchanged with the workers since the pool started. Tasks never send
   * any: these only move for start-up, `ping`, `snapshot` and shutdown.
   */
  get controlMessages(): MessageCounts {
    return this.workers.controlMessages;
  }

  /**
   * Runs task `name` with `args` on some worker and resolves with its result.
   *
   * Rejects with UnknownTaskError or EncodeError before anything is queued, PoolClosedError after
   * `close()`, and TaskError (the original error as `cause`) when the task throws.
   */
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>> {
    return this.runner.run(name, args, PLAIN_RUN);
  }

  /**
   * Runs task `name` with `args` and lets it go (Rayon's `ThreadPool::spawn`): nothing to await,
   * and any failure (the task's error, a refusal, a closed pool) goes to `onError`.
   */
  spawn<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): void {
    this.runner.run(name, args, PLAIN_RUN).catch(this.report);
  }

  /**
   * The pool's calls with options: `pool.with({ priority: 'high' }).run('resize', image, 200)`.
   * Queued work of a higher priority is taken first, within a starvation bound: a waiting call
   * of a lower priority is passed over at most 8 times in a row (docs/guide/pool.md, "Calls").
   */
  with(options: CallOptions): PoolCalls<M> {
    return callsWith(resolveCallOptions(options, this.settings), this.runner, this.forks);
  }

  /**
   * Runs task `name` once per argument list and resolves with the results in the same order.
   * Calls travel in chunks, so a large batch costs a few slots and a few encodings rather than one
   * per call; chunks are queued as they are encoded, so the workers start on the first while the
   * main thread encodes the next.
   *
   * Rejects with the first failure reported, a TaskError whose `index` names the failing call.
   * Nothing is queued if an argument list holds something that cannot be sent (EncodeError).
   */
  runBatch<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<TaskResult<M, K>[]> {
    return this.runner.batch(name, argsList, PLAIN_BATCH) as Promise<TaskResult<M, K>[]>;
  }

  /**
   * Like `runBatch`, but every call runs whatever happens to the others, and the promise resolves
   * with one `PromiseSettledResult` per call, in order, like `Promise.allSettled`: a failed call's
   * entry holds its TaskError (with its `index`). It rejects only for what fails the whole batch
   * before anything is queued: an unknown task, an argument list that cannot be sent, a closed pool.
   */
  runBatchSettled<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<PromiseSettledResult<TaskResult<M, K>>[]> {
    return this.runner.batch(name, argsList, SETTLED_BATCH) as Promise<PromiseSettledResult<TaskResult<M, K>>[]>;
  }

  /**
   * @internal `runBatchSettled` with `options`, its workers packing values of JSON data for a
   * cluster node to forward as they are (calls.ts, PackedBatch).
   */
  [PACKED_BATCH](options: CallOptions, name: string, argsList: Iterable<unknown[]>): Promise<PackedBatch> {
    const plans = resolveCallOptions(options, this.settings);
    return batchWith(plans, this.runner, name as TaskName<M>, argsList, { settleEach: true, packValues: true }) as Promise<PackedBatch>;
  }

  /**
   * Runs two calls in parallel and resolves with both results. Both always run; if both fail, the
   * first call's error wins (Rayon's rule).
   *
   * @example `const [left, right] = await pool.join(['fib', 30], ['fib', 29]);`
   */
  join<KA extends TaskName<M>, KB extends TaskName<M>>(
    a: PoolCall<M, KA>,
    b: PoolCall<M, KB>,
  ): Promise<[TaskResult<M, KA>, TaskResult<M, KB>]> {
    return this.forks.join(a, b, this.runner) as Promise<[TaskResult<M, KA>, TaskResult<M, KB>]>;
  }

  /**
   * Runs `body`, in which `scope.spawn(name, ...args)` queues calls, and resolves with the body's
   * result once the body and every task spawned in the scope — including tasks those tasks spawned
   * through `currentScope()` — have finished. Rejects with the first error: the body's own, or a
   * TaskError for the first task that failed; always after everything finished.
   */
  scope<R>(body: (scope: PoolScope<M>) => R | PromiseLike<R>): Promise<R> {
    return this.forks.scope(body);
  }

  /**
   * `scope` whose tasks spawn more with `spawnFifo` (Rayon's `scope_fifo`): what a worker spawns
   * into it starts oldest first (docs/guide/fork-join.md). `scope.spawnFifo` queues from here.
   */
  scopeFifo<R>(body: (scope: PoolScopeFifo<M>) => R | PromiseLike<R>): Promise<R> {
    return this.forks.scopeFifo(body);
  }

  /**
   * Runs `name(...args)` once on every worker and resolves with the results by worker index. If
   * any part fails, rejects with the failure of the lowest worker, after every part finished.
   */
  broadcast<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>[]> {
    return this.forks.broadcast(name, args) as Promise<TaskResult<M, K>[]>;
  }

  /**
   * A parallel iterator over a `range(start, end)`, an array or a typed array, run by the workers:
   * Rayon's adaptive splitting with `join`, pieces stolen by idle workers. A typed array over a
   * SharedArrayBuffer is shared, not copied; anything else is copied once into shared memory.
   * Steps name tasks of the module; terminal operations return promises.
   *
   * @example `const total = await pool.parIter(range(0, 1_000_000)).map('square').sum();`
   */
  parIter<S extends IterSource<unknown>>(source: S): PoolParIter<M, ItemOf<S>> {
    return this.forks.parIter(NORMAL_LEVEL, source);
  }

  /**
   * Sorts a typed array by value on the workers, as `TypedArray.prototype.sort` does (NaN last, -0
   * before +0), and resolves with it, sorted in place: Rayon's `par_sort`, a stable parallel merge
   * sort (docs/guide/sort.md). A view over a SharedArrayBuffer is sorted where it is; any other is
   * copied into shared memory and written back once sorted. Below 32,768 items it sorts on the
   * calling thread. Rejects with a TypeError for anything else than a typed array, or one whose
   * buffer is detached, and PoolClosedError after `close()`.
   *
   * @example `await pool.parSort(new Float64Array(new SharedArrayBuffer(8 * n)))`
   */
  parSort<T extends NumericArray>(view: T): Promise<T> {
    return this.sorts.parSort(view, 'parSort');
  }

  /**
   * `parSort` without the promise that equal items keep their order (Rayon's `par_sort_unstable`).
   * Equal numbers cannot be told apart, so today it runs the same merge sort; see
   * docs/guide/sort.md.
   */
  parSortUnstable<T extends NumericArray>(view: T): Promise<T> {
    return this.sorts.parSort(view, 'parSortUnstable');
  }

  /**
   * Sorts a typed array or an array by `compareTask`, the name of a task of the module
   * `(a, b) => number` (negative: `a` first), stably, and resolves with it, sorted in place (Rayon's
   * `par_sort_by`). An array is sorted like `Array.prototype.sort`: its own objects reordered,
   * `undefined` and holes last; a copy of its items crosses to the workers, which sort indices.
   * Rejects with UnknownTaskError for an unknown task, TaskError (the original error as `cause`)
   * when the compare task throws, and as `parSort` for the rest.
   */
  parSortBy<T extends NumericArray | unknown[]>(target: T, compareTask: CompareTaskName<M, SortItem<T>>): Promise<T> {
    return this.sorts.parSortBy(target, compareTask);
  }

  /**
   * Counts, queue depths, per-worker busy time and utilisation, and latency histograms, since the
   * pool started or the last `resetStatistics()`. Read from shared memory: no message to the
   * workers. Per-call counts and histograms need the pool option `statistics: true`.
   */
  statistics(): PoolStatistics {
    return this.statisticsReader.read(this.threadNames);
  }

  /** Starts a new statistics interval: counters, busy times and histograms from zero. */
  resetStatistics(): void {
    this.statisticsReader.reset();
  }

  /** `statistics()` in the Prometheus text exposition format, metric names prefixed `viscose_`. */
  metrics(): string {
    return renderPrometheus(poolMetricFamilies(this.statistics()));
  }

  /**
   * Adds the metrics of `metrics()` to a prom-client `Registry`, read afresh at every scrape.
   * Returns a function that removes them again. Throws MetricNameTakenError, registering nothing,
   * if one of their names is taken.
   */
  registerMetrics(registry: MetricsRegistry): () => void {
    return registerFamilies(registry, () => poolMetricFamilies(this.statistics()));
  }

  /**
   * Makes every pool's workers forget a shared buffer now, rather than once the main thread's last
   * reference to it is collected (which releases it too). Throws a TypeError while a call in flight
   * refers to the buffer; sending the buffer again later shares it anew. Buffers the pool never saw
   * are ignored.
   */
  release(buffer: SharedArrayBuffer): void {
    sharedBuffers.release(buffer);
  }

  /** Asks every worker to answer; resolves with their indices. Useful as a health check. */
  ping(): Promise<number[]> {
    return this.askEveryWorker((control) => control.ping());
  }

  /** A snapshot of every worker (tasks run, asynchronous tasks in flight, heap), by index. */
  snapshot(): Promise<WorkerSnapshot[]> {
    return this.askEveryWorker((control) => control.snapshot());
  }

  /** A control call to every worker; a closed pool has none to ask. */
  private askEveryWorker<T>(ask: (control: Remote<WorkerControl>) => Promise<T>): Promise<T[]> {
    if (this.life.stopped) return Promise.reject(new PoolClosedError());
    return this.workers.ask(ask);
  }

  /**
   * Terminates worker `index` now and replaces it, as if it had crashed: the tasks it was running
   * fail with WorkerCrashedError (or run again, for calls made with `retries`), and everything
   * queued runs elsewhere meanwhile; the exit is not reported to `onError`. For a worker whose
   * memory keeps growing, or to inject faults in tests. Resolves once the replacement has started.
   */
  restartWorker(index: number): Promise<void> {
    return this.workers.restartOnRequest(index, this.life);
  }

  /**
   * Stops accepting calls, waits for every accepted call to settle, runs the exit handlers and
   * stops the workers. With `timeout` (milliseconds), a close that has not finished by then
   * terminates the pool instead: calls still unsettled reject with PoolClosedError. Calling it again
   * waits for the same close (a new timeout applies from that call).
   */
  close(options: CloseOptions = {}): Promise<void> {
    return this.life.closeWith(options);
  }

  /**
   * Stops the workers now. Every call not yet settled rejects with PoolClosedError.
   */
  terminate(): Promise<void> {
    return this.life.terminate();
  }

  /** `await using pool = await ThreadPool.create(...)` closes the pool at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
