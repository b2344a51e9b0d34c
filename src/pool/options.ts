/**
 * Pool options: what callers may set (the interface, with each option's documentation), and the
 * table of their defaults and checks from which the pool's settings, the builder and the docs'
 * option table are derived. Every invalid option is reported when the pool is created, naming it.
 */
import type { ResourceLimits, SHARE_ENV } from 'node:worker_threads';
import { InvalidOptionError } from '../errors.js';
import { type OptionTable, resolveTable } from '../options/table.js';
import {
  countOrInfinity,
  errorHandler,
  flag,
  integer,
  millisecondsOrZero,
  nonEmptyString,
  number,
  oneOf,
  optionalExportName,
  optionalFunction,
  optionalObject,
  optional,
  optionalStrings,
  positiveMilliseconds,
} from '../options/validators.js';
import { MAX_SLOTS, MAX_THREADS } from '../shm/layout.js';
import { MAX_SCALARS } from '../codec/scalars.js';
import { MAX_ARENA_BYTES } from '../shm/arena.js';
import { cloneable, environment, moduleUrl, pinning, preloads, queueBackend, threadCount, threadNames } from './option-checks.js';
import type { QueueBackend } from '../queue/work-queue.js';
import { terminationUnavailable } from './termination.js';
import { resolvePoolSize } from './pool-size.js';

export interface ThreadPoolOptions {
  /**
   * The task module every worker imports: a `file:` URL, or an absolute path. Its exported
   * functions are the tasks, named by their export names.
   */
  module: string | URL;
  /**
   * Number of worker threads. Absent or 0 (as Rayon's `num_threads(0)`): the `VISCOSE_NUM_THREADS`
   * environment variable when it is set to a positive integer, else `os.availableParallelism()`.
   */
  threads?: number;
  /**
   * Makes the pool elastic: it starts this many workers, and idle workers retire down to this many
   * (default 1 when only `maxThreads` is given). Cannot be combined with `threads`. See
   * docs/guide/pool.md, "Elastic size".
   */
  minThreads?: number;
  /**
   * Makes the pool elastic: the most workers it runs at once, started while calls wait and no
   * worker is idle (default: `threads`' default, or `minThreads` if larger). Cannot be combined
   * with `threads`.
   */
  maxThreads?: number;
  /**
   * Milliseconds an elastic pool's worker may stay idle, owning no work, before it retires; never
   * below `minThreads`. 0 retires a worker at its first idle turn, `Infinity` never. Default 10,000.
   */
  idleTimeout?: number;
  /** Worker names are `${threadNamePrefix}-${index}`; default `"viscose"`. */
  threadNamePrefix?: string;
  /** Names worker `index`; takes precedence over `threadNamePrefix`. */
  threadName?: (index: number) => string;
  /**
   * Milliseconds a worker may take to load the task module (and its preloads) and run the start
   * handler. Past it the worker is terminated and `create()` rejects with `StartTimeoutError` (a
   * replacement worker is given up instead, as one that cannot start). Default 60,000; `Infinity`
   * for no limit.
   */
  startTimeout?: number;
  /**
   * Task slots: how many tasks (or batch chunks) may be accepted and not yet finished. Further calls
   * wait for a slot. Default 1024.
   */
  maxPendingTasks?: number;
  /**
   * How many calls may wait for a task slot (once `maxPendingTasks` are taken); a call that would
   * wait beyond it is refused at once with QueueFullError, whatever its priority. A batch's chunk,
   * a group of calls sharing a slot and a scope waiting for its record each count as one. Default
   * `Infinity` (calls wait without bound); 0 refuses every call that would wait.
   */
  maxQueue?: number;
  /**
   * The default of the call option `terminateOnAbort`: whether a call whose signal aborts while
   * its task runs has its worker terminated (and replaced) rather than only told. Default false.
   */
  terminateOnAbort?: boolean;
  /**
   * Bytes of each slot's inline payload area; arguments and results that encode to more go to a
   * shared arena. Default 448 (a slot is then 512 bytes).
   */
  inlinePayloadBytes?: number;
  /** Largest encoded argument list or result accepted, in bytes. Default 128 MiB. */
  maxPayloadBytes?: number;
  /**
   * How long an idle worker keeps looking for work before it parks, in microseconds. Spinning finds
   * new work in well under a microsecond, a park/wake round trip costs 5-50 µs. Default 50.
   */
  spinMicros?: number;
  /**
   * How many asynchronous tasks (returning a promise) one worker keeps in flight: while they await,
   * it runs other work. A task whose caller gave up (a timeout, an abort) no longer counts. Default
   * 16. Tasks that await and then compute came within 1.2–1.3× of the ideal time from 8 up (at 1,
   * 6×: a CPU idles while its one task awaits); the throughput of tasks that mostly wait grows with
   * the bound (`bench/probes/async-bound.mjs`), so raise it for those.
   */
  asyncTasksPerWorker?: number;
  /**
   * Tasks one worker may have forked and not yet seen finish (the second halves of `join`, the
   * tasks of a `scope`, a `broadcast`). A fork beyond it runs inline instead. Default 256.
   */
  nestedTasksPerWorker?: number;
  /**
   * While a task waits in `join`, `scope` or `broadcast`, its worker runs other work, whose frames
   * stack on top of the waiting task's. Beyond this many nested waits it only runs work that no
   * other worker can (its own forks), so that recursion through steals cannot overflow a worker's
   * stack. Default 32.
   */
  maxNestedWaits?: number;
  /**
   * Whether calls made in the same turn of the event loop share slots (docs/guide/pool.md,
   * "Calls made together"). `'auto'`: the first call of a turn goes at once, and later calls of a
   * task measured to be short (about 25 µs a call or less) travel together, as a batch would.
   * `'always'`: later calls of a turn share slots whatever their task costs. `'never'`: every call
   * takes a slot of its own. Calls with a signal, a time limit or retries always go alone, and so
   * do the calls of a task a worker died running.
   */
  coalesce?: CoalesceMode;
  /**
   * Count every call and record its dispatch latency, run time and end-to-end latency in
   * histograms (`pool.statistics()`, `pool.metrics()`). Costs the main thread about 0.4 µs per
   * call. Queue depths and the workers' counters and busy time are kept either way. Default false.
   */
  statistics?: boolean;
  /**
   * Modules every worker imports, in order, before the task module: `file:` URLs, absolute paths or
   * bare package specifiers (resolved from where viscose is installed). This is how a TypeScript
   * task module gets its loader on Node 20, whose workers ignore `--import` in `execArgv`: preload a
   * file that calls `register()` from `tsx/esm/api` (see docs/guide/typescript.md).
   */
  preload?: (string | URL)[];
  /**
   * Which implementation of the work-stealing deques (worker deques and injector) the pool uses:
   * `'js'`, the TypeScript one, or `'native'`, the C++ one from `native-queue/`: the package ships it
   * prebuilt for linux-x64, elsewhere it must be built (creating the pool fails otherwise, saying
   * how). Both follow
   * one protocol over the same shared memory; `native-queue/README.md` compares them. Defaults to
   * the `VISCOSE_QUEUE` environment variable when it is set, else `'js'`.
   */
  queue?: QueueBackend;
  /**
   * Pin worker `i` to the `i`-th CPU the process may run on (modulo their number), for latency
   * experiments; Linux only, through the native addon (see `queue`). Elsewhere it does
   * nothing but emit a warning. Default false.
   */
  pinThreads?: boolean;
  /** Passed to every `Worker`. */
  resourceLimits?: ResourceLimits;
  /**
   * Passed to every `Worker` as given, e.g. `['--import', 'tsx']` to load task modules written in
   * TypeScript. Without it a worker gets the main thread's `process.execArgv` less the flags that
   * only describe how the main program was started (`--input-type`, `-e`, `-p`, `--check`, `-i`,
   * `--test`, `--watch`, `--watch-path`): `node --input-type=module -e "…"` can create a pool.
   */
  execArgv?: string[];
  /** Passed to every `Worker` (default: a copy of `process.env`). */
  env?: NodeJS.Dict<string> | typeof SHARE_ENV;
  /**
   * The application's own data for the workers, read in tasks and handlers as `workerData` from
   * `viscose/worker` (before the task module is imported, so its top level can read it too). Each
   * worker gets its own copy, made with the structured clone algorithm when the worker starts
   * (replacements included); SharedArrayBuffers in it are shared, not copied, and class instances
   * arrive as plain objects. A value holding what cannot be cloned (a function, a symbol, a
   * MessagePort) is refused when the pool is created.
   */
  workerData?: unknown;
  /** Export of the task module run on each worker (with its index) before it takes work. */
  startHandler?: string;
  /** Export of the task module run on each worker (with its index) when the pool closes. */
  exitHandler?: string;
  /**
   * Receives failures that no caller can be told about: a worker that crashed while idle, an exit
   * handler that threw — as the pool's `error` event does. Default: a process warning, unless the
   * pool has `error` listeners.
   */
  onError?: (error: Error) => void;
}

/** See ThreadPoolOptions `coalesce`. */
export type CoalesceMode = 'auto' | 'always' | 'never';

/** The options in effect for a pool, every default filled in (`ThreadPool.settings`). */
export interface ThreadPoolSettings {
  moduleUrl: string;
  /** The most workers at once (`maxThreads`): what the shared memory and the names are laid out for. */
  threads: number;
  /** Workers started with the pool, and the fewest it keeps; equal to `threads` for a fixed size. */
  minThreads: number;
  /** Equal to `threads`. */
  maxThreads: number;
  /** How long a worker of an elastic pool may stay idle before it retires; `Infinity` when fixed. */
  idleTimeoutMs: number;
  names: string[];
  startTimeoutMs: number;
  maxPendingTasks: number;
  maxQueue: number;
  terminateOnAbort: boolean;
  inlinePayloadBytes: number;
  maxPayloadBytes: number;
  spinMicros: number;
  asyncTasksPerWorker: number;
  nestedTasksPerWorker: number;
  maxNestedWaits: number;
  coalesce: CoalesceMode;
  statistics: boolean;
  queue: QueueBackend;
  /** The CPU each worker pins itself to, by index; undefined when threads are not pinned. */
  pinCpus: number[] | undefined;
  preload: string[];
  resourceLimits: ResourceLimits | undefined;
  execArgv: string[] | undefined;
  env: NodeJS.Dict<string> | typeof SHARE_ENV | undefined;
  workerData: unknown;
  startHandler: string | undefined;
  exitHandler: string | undefined;
  onError: (error: Error) => void;
}

/** The largest payload whose arena block (a power of two with a header) fits an arena. */
export const MAX_PAYLOAD_LIMIT = (MAX_ARENA_BYTES + 1) / 4;

/** Every pool option: its default and its check (the prose is the TSDoc of ThreadPoolOptions). */
export const POOL_OPTIONS = {
  module: { validate: moduleUrl },
  threads: { validate: threadCount, defaultDoc: '`VISCOSE_NUM_THREADS`, else `os.availableParallelism()`' },
  minThreads: { validate: optional(integer(1, MAX_THREADS)), defaultDoc: '`threads`; 1 when only `maxThreads` is given' },
  maxThreads: { validate: optional(integer(1, MAX_THREADS)), defaultDoc: '`threads`; with `minThreads`, the larger of the two' },
  idleTimeout: { validate: optional(millisecondsOrZero), defaultDoc: '10,000 (elastic pools only)' },
  threadNamePrefix: { validate: nonEmptyString, default: 'viscose' },
  threadName: { validate: optionalFunction<(index: number) => string>('(index) => string') },
  startTimeout: { validate: positiveMilliseconds, default: 60_000 },
  maxPendingTasks: { validate: integer(1, MAX_SLOTS), default: 1024 },
  maxQueue: { validate: countOrInfinity, default: Infinity, defaultDoc: '`Infinity`' },
  terminateOnAbort: { validate: flag, default: false },
  inlinePayloadBytes: { validate: integer(MAX_SCALARS * 8, 1 << 20), default: 448 },
  maxPayloadBytes: { validate: integer(1, MAX_PAYLOAD_LIMIT), default: 128 * 1024 * 1024, defaultDoc: '128 MiB' },
  spinMicros: { validate: number(0, 1_000_000), default: 50 },
  asyncTasksPerWorker: { validate: integer(1, 1 << 16), default: 16 },
  nestedTasksPerWorker: { validate: integer(1, 1 << 14), default: 256 },
  maxNestedWaits: { validate: integer(1, 1 << 16), default: 32 },
  coalesce: { validate: oneOf<CoalesceMode>('auto', 'always', 'never'), default: 'auto' },
  statistics: { validate: flag, default: false },
  preload: { validate: preloads, defaultDoc: 'none' },
  queue: { validate: queueBackend, defaultDoc: "`VISCOSE_QUEUE`, else `'js'`" },
  pinThreads: { validate: flag, default: false },
  resourceLimits: { validate: optionalObject<ResourceLimits>(), defaultDoc: "Node's" },
  execArgv: { validate: optionalStrings, defaultDoc: "the main thread's, less the flags that start a program" },
  env: { validate: environment, defaultDoc: 'a copy of `process.env`' },
  workerData: { validate: cloneable, defaultDoc: 'none' },
  startHandler: { validate: optionalExportName },
  exitHandler: { validate: optionalExportName },
  onError: { validate: errorHandler, defaultDoc: 'a process warning' },
} as const satisfies OptionTable<ThreadPoolOptions>;

export function resolveOptions(options: ThreadPoolOptions): ThreadPoolSettings {
  const given = resolveTable(POOL_OPTIONS, options, 'an object with at least a `module`');
  const { maxPendingTasks, nestedTasksPerWorker } = given;
  const size = resolvePoolSize({
    threadsGiven: options.threads !== undefined && options.threads !== 0,
    threads: given.threads,
    minThreads: given.minThreads,
    maxThreads: given.maxThreads,
    idleTimeout: given.idleTimeout,
  });
  const threads = size.maxThreads;
  const noTermination = given.terminateOnAbort ? terminationUnavailable('terminateOnAbort') : undefined;
  if (noTermination !== undefined) throw new InvalidOptionError('terminateOnAbort', noTermination);
  // Every slot can hold a part of one scope (scope-count.ts counts parts in 21 bits), and a queue
  // entry keeps the bits above the slot index for its generation: the whole table stays within
  // MAX_SLOTS.
  if (maxPendingTasks + threads * nestedTasksPerWorker > MAX_SLOTS) {
    throw new InvalidOptionError(
      'nestedTasksPerWorker',
      `maxPendingTasks + threads × nestedTasksPerWorker must not exceed ${MAX_SLOTS}, got ${maxPendingTasks} + ${threads} × ${nestedTasksPerWorker}`,
    );
  }
  return {
    moduleUrl: given.module,
    threads,
    ...size,
    names: threadNames(given.threadNamePrefix, given.threadName, threads),
    startTimeoutMs: given.startTimeout,
    maxPendingTasks,
    maxQueue: given.maxQueue,
    terminateOnAbort: given.terminateOnAbort,
    inlinePayloadBytes: given.inlinePayloadBytes,
    maxPayloadBytes: given.maxPayloadBytes,
    spinMicros: given.spinMicros,
    asyncTasksPerWorker: given.asyncTasksPerWorker,
    nestedTasksPerWorker,
    maxNestedWaits: given.maxNestedWaits,
    coalesce: given.coalesce,
    statistics: given.statistics,
    queue: given.queue,
    pinCpus: pinning(given.pinThreads, threads),
    preload: given.preload,
    resourceLimits: given.resourceLimits,
    execArgv: given.execArgv,
    env: given.env,
    workerData: given.workerData,
    startHandler: given.startHandler,
    exitHandler: given.exitHandler,
    onError: given.onError,
  };
}
