/**
 * The ParallelProcessor's configuration: the specification's options (thread count and names,
 * batch size, concurrent batches, pending-task capacity, statistics), the task module and its
 * handler, and how to behave under load.
 */
import { InvalidOptionError } from '../errors.js';
import type { ThreadPoolOptions } from '../pool/options.js';
import type { PerformanceMonitor } from './monitor.js';
import { positiveMilliseconds } from '../time/timer.js';

/** What a request does when no capacity is free: wait for it, or fail at once. */
export type BackpressureMode = 'wait' | 'reject';

export interface ProcessorOptions {
  /** The task module every worker imports: a `file:` URL or an absolute path. */
  module: string | URL;
  /** Export of the module that handles one request: `handler(request)` → response (or a promise). */
  handler: string;
  /** Worker threads. Default: `VISCOSE_NUM_THREADS`, else the number of CPUs. */
  threadCount?: number;
  /** Workers are named `prefix-0`, `prefix-1`, ... Default `viscose`. */
  threadNamePrefix?: string;
  /** Requests per chunk in `executeChunkedParallel`. Default 64. */
  batchSize?: number;
  /** Batches that run at once; further batches wait their turn. Default 4. */
  maxConcurrentBatches?: number;
  /** Requests in flight at most (the capacity); more wait, or are refused. Default 1024. */
  maxPendingTasks?: number;
  /** Keep counts, latency histograms and batch efficiencies. Default true. */
  enableStatistics?: boolean;
  /** `'wait'` (default): a request waits for capacity; `'reject'`: it fails at once. */
  backpressure?: BackpressureMode;
  /** A request that waited this long for capacity fails with a `timed-out` error. Default: no limit. */
  queueTimeoutMs?: number;
  /**
   * Milliseconds a request's handler may run, counted from when a worker starts it; past it the
   * request fails with a `timed-out` error and the handler sees `isCancelled()` turn true (its
   * result is dropped). A request can set its own (`timeout` in the options of each method). In
   * `executeChunkedParallel`, requests with a time limit travel one by one, since the limit is
   * counted from each request's own start. Default: no limit.
   */
  taskTimeoutMs?: number;
  /**
   * Runs a request again, up to this many times, when the worker running it crashed (a
   * `worker-crashed` failure). Only for handlers that are safe to run twice. A chunk of
   * `executeChunkedParallel` fails as a whole when its worker crashes, and which of its requests had
   * run is not known: each of them is run again on its own, and that counts as one of its retries.
   * Default 0.
   */
  retries?: number;
  /** Told of every batch and, every `monitorIntervalMs`, of the statistics. */
  monitor?: PerformanceMonitor;
  /** Period of the monitor's statistics snapshots, in ms. Default 1000. */
  monitorIntervalMs?: number;
  /** Any other option of the underlying pool (`resourceLimits`, `execArgv`, `preload`, ...). */
  pool?: Omit<ThreadPoolOptions, 'module' | 'threads' | 'threadNamePrefix' | 'threadName' | 'maxPendingTasks' | 'statistics'>;
}

export interface ProcessorSettings {
  handler: string;
  batchSize: number;
  maxConcurrentBatches: number;
  maxPendingTasks: number;
  enableStatistics: boolean;
  backpressure: BackpressureMode;
  queueTimeoutMs: number;
  taskTimeoutMs: number;
  retries: number;
  monitor: PerformanceMonitor | undefined;
  monitorIntervalMs: number;
  /** The options the processor creates its pool with. */
  pool: ThreadPoolOptions;
}

const KNOWN = new Set([
  'module',
  'handler',
  'threadCount',
  'threadNamePrefix',
  'batchSize',
  'maxConcurrentBatches',
  'maxPendingTasks',
  'enableStatistics',
  'backpressure',
  'queueTimeoutMs',
  'taskTimeoutMs',
  'retries',
  'monitor',
  'monitorIntervalMs',
  'pool',
]);

export function resolveProcessorOptions(options: ProcessorOptions): ProcessorSettings {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'expected an object with at least `module` and `handler`');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(key, 'unknown option');
  }
  if (typeof options.handler !== 'string' || options.handler === '') {
    throw new InvalidOptionError('handler', 'expected the export name of the function that handles a request');
  }
  const maxPendingTasks = integerAtLeast(1, 'maxPendingTasks', options.maxPendingTasks ?? 1024);
  const enableStatistics = options.enableStatistics ?? true;
  if (typeof enableStatistics !== 'boolean') throw new InvalidOptionError('enableStatistics', 'expected true or false');
  const backpressure = options.backpressure ?? 'wait';
  if (backpressure !== 'wait' && backpressure !== 'reject') {
    throw new InvalidOptionError('backpressure', `expected 'wait' or 'reject', got ${JSON.stringify(backpressure)}`);
  }
  const monitor = options.monitor;
  if (monitor !== undefined && (monitor === null || typeof monitor !== 'object')) {
    throw new InvalidOptionError('monitor', 'expected an object with batchCompleted and/or statistics methods');
  }
  const pool = options.pool ?? {};
  if (pool === null || typeof pool !== 'object') throw new InvalidOptionError('pool', 'expected an object of pool options');
  return {
    handler: options.handler,
    batchSize: integerAtLeast(1, 'batchSize', options.batchSize ?? 64),
    maxConcurrentBatches: integerAtLeast(1, 'maxConcurrentBatches', options.maxConcurrentBatches ?? 4),
    maxPendingTasks,
    enableStatistics,
    backpressure,
    queueTimeoutMs: positiveMilliseconds('queueTimeoutMs', options.queueTimeoutMs ?? Infinity),
    taskTimeoutMs: positiveMilliseconds('taskTimeoutMs', options.taskTimeoutMs ?? Infinity),
    retries: integerAtLeast(0, 'retries', options.retries ?? 0),
    monitor,
    monitorIntervalMs: positiveMilliseconds('monitorIntervalMs', options.monitorIntervalMs ?? 1000),
    pool: {
      ...pool,
      module: options.module,
      ...(options.threadCount === undefined ? {} : { threads: options.threadCount }),
      ...(options.threadNamePrefix === undefined ? {} : { threadNamePrefix: options.threadNamePrefix }),
      // As many slots as requests in flight: a request the processor admitted never waits again.
      maxPendingTasks,
      statistics: enableStatistics,
    },
  };
}

function integerAtLeast(least: number, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < least) {
    throw new InvalidOptionError(name, `expected an integer of at least ${least}, got ${String(value)}`);
  }
  return value;
}
