/**
 * The ParallelProcessor's configuration: the specification's options (threads and their names,
 * batch size, concurrent batches, pending-task capacity, statistics), the task module and its
 * handler, and how to behave under load; the per-request options. The options the processor shares
 * with the pool are the pool's entries of its table, under the same names. A processor on a
 * cluster has the options that do not concern a pool of its own, and `cluster`.
 */
import { InvalidOptionError } from '../errors.js';
import { type OptionTable, type Resolved, resolveTable } from '../options/table.js';
import { describe, flag, integer, oneOf, optional, optionalObject, positiveMilliseconds } from '../options/validators.js';
import { ON_EVENT_OPTION, PRIORITY_OPTION, SIGNAL_OPTION, TIMEOUT_OPTION } from '../pool/call-options.js';
import { POOL_OPTIONS, type ThreadPoolOptions } from '../pool/options.js';
import type { UntypedModule } from '../pool/types.js';
import type { Priority } from '../queue/priority.js';
import type { PerformanceMonitor } from './monitor.js';
import { type ProcessorCluster, TIMEOUT_ON_A_CLUSTER } from './site.js';

/** What a request does when no capacity is free: wait for it, or fail at once. */
export type BackpressureMode = 'wait' | 'reject';

/**
 * The names some of the processor's options had before they were unified with the pool's. Still
 * accepted, each with one DeprecationWarning per process, until the next minor version.
 */
export interface DeprecatedProcessorOptions {
  /** @deprecated Use `threads`. */
  threadCount?: number;
  /** @deprecated Use `statistics`. */
  enableStatistics?: boolean;
  /** @deprecated Use `queueTimeout`. */
  queueTimeoutMs?: number;
  /** @deprecated Use `timeout`. */
  taskTimeoutMs?: number;
  /** @deprecated Use `monitorInterval`. */
  monitorIntervalMs?: number;
}

export interface ProcessorOptions extends DeprecatedProcessorOptions {
  /** The task module every worker imports: a `file:` URL or an absolute path. */
  module: string | URL;
  /** Export of the module that handles one request: `handler(request)` → response (or a promise). */
  handler: string;
  /** Worker threads. */
  threads?: number;
  /** Workers are named `prefix-0`, `prefix-1`, ... */
  threadNamePrefix?: string;
  /** Requests per chunk in `executeChunkedParallel`. */
  batchSize?: number;
  /** Batches that run at once; further batches wait their turn. */
  maxConcurrentBatches?: number;
  /** The capacity: requests admitted and not finished; more wait, or are refused. The pool gets as many slots. */
  maxPendingTasks?: number;
  /** Latency histograms and batch efficiencies; counts are kept either way. */
  statistics?: boolean;
  /** What a request does when the capacity is used up: `'wait'` for it, or `'reject'` at once. */
  backpressure?: BackpressureMode;
  /** A request that waited this many milliseconds for capacity fails with `timed-out`. */
  queueTimeout?: number;
  /**
   * In `backpressure: 'wait'` mode, how many requests (or chunks of `executeChunkedParallel`) may
   * wait for capacity; one more fails at once with a `backpressure-exceeded` ProcessingError whose
   * `cause` is a QueueFullError, whatever its priority. Batches waiting for their turn
   * (`maxConcurrentBatches`) do not count. Default `Infinity`.
   */
  maxQueue?: number;
  /**
   * Milliseconds a request's handler may run, counted from when a worker starts it; past it the
   * request fails with `timed-out` and the handler sees `isCancelled()` turn true (its result is
   * dropped). A request can set its own (`timeout` in the options of each method). In
   * `executeChunkedParallel`, requests with a time limit travel one by one, since the limit is
   * counted from each request's own start.
   */
  timeout?: number;
  /**
   * Runs a request again, up to this many times, when the worker running it crashed (a
   * `worker-crashed` failure), through the pool's `retries`. Only for handlers that are safe to run
   * twice. When the worker running a chunk of `executeChunkedParallel` crashes, which of its
   * requests had run is not known: each of them runs again on its own, and that counts as one of
   * its retries.
   */
  retries?: number;
  /** A `PerformanceMonitor`: told of every batch and, every `monitorInterval`, of the statistics. */
  monitor?: PerformanceMonitor;
  /** Milliseconds between the monitor's statistics snapshots. */
  monitorInterval?: number;
  /** Any other pool option (`resourceLimits`, `execArgv`, `preload`, `spinMicros`, ...). */
  pool?: Omit<ThreadPoolOptions, 'module' | 'threads' | 'threadNamePrefix' | 'threadName' | 'maxPendingTasks' | 'maxQueue' | 'statistics'>;
}

/** The options of every processor, on a pool of its own or on a cluster. */
const SHARED_OPTIONS = {
  handler: { validate: handlerName },
  batchSize: { validate: integer(1), default: 64 },
  maxConcurrentBatches: { validate: integer(1), default: 4 },
  maxPendingTasks: POOL_OPTIONS.maxPendingTasks,
  statistics: { validate: flag, default: true, deprecatedName: 'enableStatistics' },
  backpressure: { validate: oneOf<BackpressureMode>('wait', 'reject'), default: 'wait' },
  queueTimeout: { validate: positiveMilliseconds, default: Infinity, defaultDoc: 'none', deprecatedName: 'queueTimeoutMs' },
  maxQueue: POOL_OPTIONS.maxQueue,
  monitor: { validate: optionalObject<PerformanceMonitor>('an object with batchCompleted and/or statistics methods') },
  monitorInterval: { validate: positiveMilliseconds, default: 1000, deprecatedName: 'monitorIntervalMs' },
} as const;

/** The options of a processor with a pool of its own only, refused beside `cluster`. */
const POOL_ONLY_OPTIONS = {
  module: POOL_OPTIONS.module,
  threads: { ...POOL_OPTIONS.threads, deprecatedName: 'threadCount' },
  threadNamePrefix: POOL_OPTIONS.threadNamePrefix,
  timeout: { ...TIMEOUT_OPTION, deprecatedName: 'taskTimeoutMs' },
  retries: { validate: integer(0), default: 0 },
  pool: { validate: optionalObject<ProcessorOptions['pool']>('an object of pool options'), defaultDoc: 'none' },
} as const;

type PoolOnlyOption = keyof typeof POOL_ONLY_OPTIONS;

const { module: taskModule, ...POOL_ITSELF } = POOL_ONLY_OPTIONS;

// The task module first, the options of the pool itself last.
export const PROCESSOR_OPTIONS = {
  module: taskModule,
  ...SHARED_OPTIONS,
  ...POOL_ITSELF,
} as const satisfies OptionTable<Omit<ProcessorOptions, keyof DeprecatedProcessorOptions>>;

/** The options a processor on a cluster is created with (`ParallelProcessor.create({ cluster, ... })`). */
export interface ClusterProcessorOptions<M = UntypedModule>
  extends Omit<ProcessorOptions, PoolOnlyOption | 'threadCount' | 'taskTimeoutMs' | 'monitor'> {
  /**
   * The client of the viscose cluster the requests run on (`ClusterClient.connect(...)` from
   * `viscose/bullmq`). The processor does not own it: closing the processor leaves it open.
   */
  cluster: ProcessorCluster<M>;
  /** A `PerformanceMonitor`: told of every batch and, every `monitorInterval`, of the statistics (which have no `pool`). */
  monitor?: PerformanceMonitor<undefined>;
}

export const CLUSTER_PROCESSOR_OPTIONS = {
  ...SHARED_OPTIONS,
  cluster: { validate: clusterClient },
} as const satisfies OptionTable<Omit<ClusterProcessorOptions, keyof DeprecatedProcessorOptions>>;

/** The processor's options in effect, with the options it creates its pool with. */
export type ProcessorSettings = Resolved<typeof PROCESSOR_OPTIONS> & { poolOptions: ThreadPoolOptions };

/** The options in effect of a processor on a cluster. */
export type ClusterProcessorSettings = Resolved<typeof CLUSTER_PROCESSOR_OPTIONS>;

/** What the processor itself works with, wherever its requests run: the shared options, and the default time limit (none on a cluster). */
export type OwnSettings = Resolved<typeof SHARED_OPTIONS> & { timeout: number };

export function resolveProcessorOptions(options: ProcessorOptions): ProcessorSettings {
  const settings = resolveTable(PROCESSOR_OPTIONS, options, 'an object with at least `module` and `handler`');
  return {
    ...settings,
    poolOptions: {
      ...settings.pool,
      module: options.module,
      // As given, so that without it the pool's own default applies, or its elastic size when
      // `pool` sets minThreads or maxThreads (which `threads` would contradict).
      threads: options.threads ?? options.threadCount,
      threadNamePrefix: settings.threadNamePrefix,
      // As many slots as requests in flight: a request the processor admitted never waits again.
      maxPendingTasks: settings.maxPendingTasks,
      statistics: settings.statistics,
    },
  };
}

/** Why each pool-only option has no meaning on a cluster. */
const NOT_ON_A_CLUSTER: Record<PoolOnlyOption, string> = {
  module: "the cluster's nodes import the task module (`viscose worker --module`)",
  threads: "the cluster's nodes run pools of their own (`viscose worker --threads`)",
  threadNamePrefix: "the cluster's nodes run pools of their own",
  pool: "the cluster's nodes run pools of their own",
  timeout: TIMEOUT_ON_A_CLUSTER,
  retries: "a cluster runs a failed job again through BullMQ: the cluster client's `jobOptions.attempts`",
};

/** Checks the options of a processor on a cluster, refusing every option of a processor with a pool of its own. */
export function resolveClusterProcessorOptions(options: ClusterProcessorOptions<unknown>): ClusterProcessorSettings {
  for (const [name, spec] of Object.entries(POOL_ONLY_OPTIONS)) {
    for (const given of [name, 'deprecatedName' in spec ? spec.deprecatedName : undefined]) {
      if (given !== undefined && Object.hasOwn(options, given)) {
        throw new InvalidOptionError(given, `cannot be given with \`cluster\`: ${NOT_ON_A_CLUSTER[name as PoolOnlyOption]}`);
      }
    }
  }
  return resolveTable(CLUSTER_PROCESSOR_OPTIONS, options, 'an object with at least `cluster` and `handler`');
}

/** The options of one request (`process`, `executeParallelBatch`, ...). */
export interface RequestOptions {
  /** `'high'`, `'normal'` (default) or `'low'`: the order among waiting requests (and in the pool). */
  priority?: Priority;
  /**
   * Aborting it cancels the requests: those waiting for capacity or queued in the pool never run,
   * running ones are told (`isCancelled()`, `taskSignal()` in the handler) and their results
   * dropped; each fails with a `cancelled` ProcessingError.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds each request's handler may run, counted from when a worker starts it; past it the
   * request fails with a `timed-out` ProcessingError and the handler sees `isCancelled()` turn
   * true. Default: the processor's `timeout`.
   */
  timeout?: number;
  /**
   * Called on the main thread with each event a request's handler sends with
   * `emit(event, payload)` (from `viscose/worker`) while it runs, as the pool's call option of the
   * same name: in order per worker, all before the request's result; what it throws goes to
   * `onError`.
   */
  onEvent?: (event: string, payload: unknown) => void;
}

export const REQUEST_OPTIONS = {
  priority: PRIORITY_OPTION,
  signal: SIGNAL_OPTION,
  timeout: { validate: optional(positiveMilliseconds), defaultDoc: "the processor's `timeout`" },
  onEvent: ON_EVENT_OPTION,
} as const satisfies OptionTable<RequestOptions>;

function clusterClient(option: string, value: unknown): ProcessorCluster<unknown> {
  if (value === null || typeof value !== 'object' || typeof (value as Partial<ProcessorCluster<unknown>>).with !== 'function') {
    throw new InvalidOptionError(
      option,
      `expected the client of a viscose cluster (ClusterClient from viscose/bullmq), got ${describe(value)}`,
    );
  }
  return value as ProcessorCluster<unknown>;
}

function handlerName(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidOptionError(option, 'expected the export name of the function that handles a request');
  }
  return value;
}
