/**
 * A fluent builder over the pool options, shaped like Rayon's `ThreadPoolBuilder`:
 *
 * ```ts
 * const pool = await new ThreadPoolBuilder<typeof import('./tasks.js')>()
 *   .module(new URL('./tasks.js', import.meta.url))
 *   .numThreads(4)
 *   .threadName((i) => `resizer-${i}`)
 *   .startHandler('warmUp')
 *   .build();
 * ```
 */
import type { ResourceLimits, SHARE_ENV } from 'node:worker_threads';
import type { ThreadPoolOptions } from './options.js';
import { ThreadPool } from './thread-pool.js';
import type { TaskModule, TaskName, UntypedModule } from './types.js';

export class ThreadPoolBuilder<M extends TaskModule = UntypedModule> {
  private readonly options: Partial<ThreadPoolOptions> = {};

  /** The task module (a `file:` URL or an absolute path). Required. */
  module(module: string | URL): this {
    this.options.module = module;
    return this;
  }

  /** Milliseconds a worker may take to load the module and run its start handler; see `startTimeout`. */
  startTimeout(ms: number): this {
    this.options.startTimeout = ms;
    return this;
  }

  /** Number of threads; 0 means the default (`VISCOSE_NUM_THREADS`, else the available parallelism). */
  numThreads(threads: number): this {
    this.options.threads = threads;
    return this;
  }

  /** Names worker `index`. */
  threadName(name: (index: number) => string): this {
    this.options.threadName = name;
    return this;
  }

  /** Worker names become `${prefix}-${index}`. */
  threadNamePrefix(prefix: string): this {
    this.options.threadNamePrefix = prefix;
    return this;
  }

  /** Task slots: calls accepted and not finished. */
  maxPendingTasks(slots: number): this {
    this.options.maxPendingTasks = slots;
    return this;
  }

  /** Bytes of inline payload per slot. */
  inlinePayloadBytes(bytes: number): this {
    this.options.inlinePayloadBytes = bytes;
    return this;
  }

  /** Largest encoded argument list or result. */
  maxPayloadBytes(bytes: number): this {
    this.options.maxPayloadBytes = bytes;
    return this;
  }

  /** How long idle workers spin before parking, in microseconds. */
  spinMicros(micros: number): this {
    this.options.spinMicros = micros;
    return this;
  }

  /** Asynchronous tasks one worker keeps in flight. */
  asyncTasksPerWorker(count: number): this {
    this.options.asyncTasksPerWorker = count;
    return this;
  }

  /** Forked tasks one worker may have in flight (see ThreadPoolOptions.nestedTasksPerWorker). */
  nestedTasksPerWorker(count: number): this {
    this.options.nestedTasksPerWorker = count;
    return this;
  }

  /** Nested waits beyond which a waiting worker stops stealing (see ThreadPoolOptions.maxNestedWaits). */
  maxNestedWaits(depth: number): this {
    this.options.maxNestedWaits = depth;
    return this;
  }

  /** Modules each worker imports before the task module (see ThreadPoolOptions.preload). */
  preload(modules: (string | URL)[]): this {
    this.options.preload = modules;
    return this;
  }

  resourceLimits(limits: ResourceLimits): this {
    this.options.resourceLimits = limits;
    return this;
  }

  execArgv(argv: string[]): this {
    this.options.execArgv = argv;
    return this;
  }

  env(env: NodeJS.Dict<string> | typeof SHARE_ENV): this {
    this.options.env = env;
    return this;
  }

  /** An export of the task module that each worker runs with its index before taking work. */
  startHandler(name: TaskName<M>): this {
    this.options.startHandler = name;
    return this;
  }

  /** An export of the task module that each worker runs with its index when the pool closes. */
  exitHandler(name: TaskName<M>): this {
    this.options.exitHandler = name;
    return this;
  }

  /** Receives failures that no caller can be told about (Rayon's panic handler). */
  errorHandler(handler: (error: Error) => void): this {
    this.options.onError = handler;
    return this;
  }

  /** Starts the pool; see `ThreadPool.create`. */
  build(): Promise<ThreadPool<M>> {
    return ThreadPool.create<M>(this.options as ThreadPoolOptions);
  }
}
