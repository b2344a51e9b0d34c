/**
 * Types that tie a pool to its task module, so that `pool.run('resize', img, 200)` checks the task
 * name, its arguments and its result type against `typeof import('./tasks.js')`.
 */

import type { IterSource, ItemOf, PoolParIter } from '../iter/par-iter.js';
import type { Priority } from '../queue/priority.js';

// `any` is required here: a function type with `unknown` parameters would not accept tasks that
// declare specific parameter types.
/** Any function: what a task module exports as tasks. */
// biome-ignore lint/suspicious/noExplicitAny: `unknown[]` parameters would reject every typed function.
export type AnyFunction = (...args: any[]) => unknown;

/** A module namespace, or any object whose function properties are the tasks. */
export type TaskModule = object;

/** Names of the exported functions of `M`. */
export type TaskName<M> = {
  [K in keyof M]: M[K] extends AnyFunction ? K : never;
}[keyof M] &
  string;

/** Argument list of task `K`. */
export type TaskArgs<M, K extends TaskName<M>> = M[K] extends (...args: infer A) => unknown ? A : never;

/** What `run` resolves to for task `K`: its return value, awaited. */
export type TaskResult<M, K extends TaskName<M>> = M[K] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** The pool's view of an untyped module: any name, any arguments, unknown results. */
export type UntypedModule = Record<string, AnyFunction>;

/** A call of task `K` with its arguments, by export name: `['fib', 30]`. */
export type PoolCall<M, K extends TaskName<M>> = readonly [name: K, ...args: TaskArgs<M, K>];

/** A scope opened from the main thread (`pool.scope`): spawn calls into it by export name. */
export interface PoolScope<M> {
  /**
   * Queues `name(...args)` as part of the scope. Tasks spawned this way can spawn more into the
   * same scope with `currentScope()` from `viscose/worker`. Throws once the scope's body has
   * returned (spawns from tasks still running in the scope remain possible).
   */
  spawn<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): void;
  /**
   * Queues `name(...args)` once for every worker, as part of the scope: each runs on its own worker
   * (`currentThreadIndex()` says which), and the scope waits for all of them.
   */
  spawnBroadcast<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): void;
}

/**
 * A scope opened from the main thread with `pool.scopeFifo`. Its spawns start oldest first, like
 * `PoolScope.spawn` (the main thread queues both to the injector, which workers take oldest first);
 * the difference is for the tasks spawned in it, which spawn more with `currentScopeFifo()` from
 * `viscose/worker` and `spawnFifo`.
 */
export interface PoolScopeFifo<M> {
  /** Queues `name(...args)` as part of the scope; throws once the scope's body has returned. */
  spawnFifo<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): void;
  /** As PoolScope.spawnBroadcast. */
  spawnBroadcast<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): void;
}

/** Options for the calls made through `pool.with(options)`. */
export interface CallOptions {
  /**
   * `'high'`, `'normal'` (the default) or `'low'`. Queued work of a higher priority is taken
   * first; a waiting call of a lower priority is passed over at most 8 times in a row.
   */
  priority?: Priority;
  /**
   * Aborting it withdraws the calls: a call still queued never runs, and its promise rejects with
   * AbortError (a batch's promise, for all its calls). A call already running is not interrupted:
   * its promise rejects at once, its result is dropped, and the task sees `isCancelled()` (from
   * `viscose/worker`) turn true, to stop early if it checks.
   */
  signal?: AbortSignal;
  /**
   * `run` only: milliseconds the task may run, counted from when a worker starts it (time spent
   * queued does not count). Past it the call rejects with TaskTimeoutError, its result is dropped
   * and the task sees `isCancelled()` turn true.
   */
  timeout?: number;
  /**
   * With `timeout`: if the task is still running this many milliseconds after its timeout (it
   * ignores `isCancelled()`), its worker is terminated and replaced. Other tasks running on that
   * worker (asynchronous ones, or work it had taken on while waiting in a join) fail with
   * WorkerCrashedError. Default: never.
   */
  terminateAfter?: number;
  /**
   * With `signal`, for `run`, `runBatch` and `runBatchSettled`: when the signal aborts while the
   * task runs, its worker is terminated and replaced (as `terminateAfter` does) rather than only
   * told: for synchronous tasks that never check `isCancelled()`. The call rejects with AbortError
   * as usual; other tasks that worker was running fail with WorkerCrashedError or run again per
   * their `retries`. A call not started yet is only withdrawn. `parIter` does not take it: its
   * pieces run on every worker. Not available on Deno. Default: the pool's `terminateOnAbort`.
   */
  terminateOnAbort?: boolean;
  /**
   * For idempotent tasks: how many times a call (or a batch chunk) whose worker died under it is
   * run again, on another worker, before it fails with WorkerCrashedError. Only crashes are
   * retried, not errors the task throws, and not a worker terminated by `terminateAfter`. Each
   * attempt counts in the statistics (a crashed attempt as failed). Default: 0.
   */
  retries?: number;
  /**
   * `runBatch` and `runBatchSettled` only: calls per chunk, each chunk taking one slot, one
   * encoding and one wake. Default: chosen from the batch's length and the thread count, so that
   * every worker finds several chunks (at most 512 calls each). A chunk whose encoding exceeds
   * `maxPayloadBytes` is halved until it fits, whatever this says.
   */
  chunkSize?: number;
  /** Told what happens to the calls on the workers, for statistics of the caller's own. */
  observer?: CallObserver;
  /**
   * Called on the main thread with each event the call's task sends with `emit(event, payload)`
   * (from `viscose/worker`), including from work it forks on other workers: the events of one
   * worker in the order they were emitted, and all those emitted before the task returned before
   * the call's promise settles. Events past the call's end, and beyond 1,024 not yet delivered per
   * worker, are dropped (`emit` returns false). What it throws goes to the pool's `onError`.
   * Without it, `emit` sends nothing. Calls with it never share a slot (option `coalesce`).
   */
  onEvent?: (event: string, payload: unknown) => void;
}

/**
 * Hooks that `pool.with({ observer })` calls as its calls run. They are called on the main thread,
 * synchronously, before the promise of the call concerned settles; an exception they throw is
 * reported to the pool's `onError` and changes nothing else.
 */
export interface CallObserver {
  /**
   * A call, or a batch chunk of `calls` calls, ran to its end on a worker, with a result or an
   * error its task threw, for `runMs` milliseconds (from a worker starting it to its outcome being
   * stored). Calls of one turn that shared a slot (option `coalesce`) are told together, each
   * observer once for its calls, with their share of the slot's time. Not called for work that
   * never ran, or whose worker died under it.
   */
  ran?(runMs: number, calls: number): void;
  /**
   * A call, or a batch chunk of `calls` calls, is run again because its worker died under it
   * (option `retries`).
   */
  retrying?(calls: number): void;
}

/** A pool's calls made with particular options (`pool.with(options)`). */
export interface PoolCalls<M> {
  run<K extends TaskName<M>>(name: K, ...args: TaskArgs<M, K>): Promise<TaskResult<M, K>>;
  runBatch<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<TaskResult<M, K>[]>;
  runBatchSettled<K extends TaskName<M>>(name: K, argsList: Iterable<TaskArgs<M, K>>): Promise<PromiseSettledResult<TaskResult<M, K>>[]>;
  /**
   * A parallel iterator whose terminal operation rejects with AbortError once `signal` aborts, or
   * TaskTimeoutError once its root piece has run for `timeout`: pieces not started are dropped,
   * running ones stop within a few tens of thousands of items. `priority` applies to the root piece.
   */
  parIter<S extends IterSource<unknown>>(source: S): PoolParIter<M, ItemOf<S>>;
}
