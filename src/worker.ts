/**
 * Task-side API, imported by task modules as `viscose/worker`: Rayon's fork-join operations for
 * code running on a pool's worker, and the identity of that worker.
 *
 * Work that may run on another worker is always a call of a task the module exports, written as
 * `[task, ...args]`: functions cannot cross threads, so a closure there is refused with
 * NotATaskError. Those calls must be synchronous (the caller waits for them synchronously).
 *
 * @packageDocumentation
 */
import { ThreadPoolError } from './errors.js';
import { abortedError } from './worker/cancellation.js';
import { cancellation, forkJoin, taskEvents, workerIdentity } from './worker/context.js';
import type { ForkJoinOperations } from './worker/fork-join.js';
import { type Scope, type ScopeFifo, isFifo } from './worker/scope.js';
import type { ItemOf, IterSource, ParIter } from './iter/par-iter.js';
import type { AnyFunction } from './pool/types.js';
import type { NumericArray, SortItem } from './sort/sortable.js';

export type { Scope, ScopeFifo } from './worker/scope.js';
export type { ChunkOf, ExtraParameters, ItemOf, IterSource, ParIter, Range, StepFunction } from './iter/par-iter.js';
export type { TaskFunction } from './worker/task-table.js';
export type { AnyFunction } from './pool/types.js';
export type { NumericArray, SortItem } from './sort/sortable.js';
export { range } from './iter/par-iter.js';
export { transfer } from './codec/transfer.js';
export type { Transferable } from './codec/transfer.js';
export { workerData } from './worker/worker-data.js';

/** A call of `task` with its arguments: `[fib, n - 1]`. */
export type Call<F extends AnyFunction> = readonly [task: F, ...args: Parameters<F>];

function workerOperations(operation: string): ForkJoinOperations {
  const forkJoinOperations = forkJoin();
  if (forkJoinOperations === undefined) {
    throw new ThreadPoolError(
      `${operation} can only be called from a task running on a viscose worker; from the main thread, use the pool's ${operation}`,
    );
  }
  return forkJoinOperations;
}

/**
 * Runs two calls, potentially in parallel, and returns both results: `b` is offered to idle
 * workers while `a` runs here; if nobody took `b`, it runs here next with its arguments as they
 * are (nothing is encoded back), else this worker runs other work until `b` is done.
 *
 * `b`'s task must be an export of the task module; `a` may be any synchronous function. Both
 * always run; if both throw, `a`'s error is thrown.
 *
 * @example
 * ```ts
 * export function fib(n: number): number {
 *   if (n < 20) return fibSequential(n);
 *   const [x, y] = join([fib, n - 1], [fib, n - 2]);
 *   return x + y;
 * }
 * ```
 */
export function join<A extends AnyFunction, B extends AnyFunction>(a: Call<A>, b: Call<B>): [ReturnType<A>, ReturnType<B>] {
  // slice, not `[f, ...args] = call`: a rest pattern runs the iterator protocol, which was a fifth
  // of the cost of a join that nobody steals.
  return workerOperations('join').join(a[0], a.slice(1), b[0], b.slice(1)) as [ReturnType<A>, ReturnType<B>];
}

/**
 * Runs `body`, in which `scope.spawn(task, ...args)` queues calls that idle workers may take, and
 * returns once the body and every task spawned in it — including tasks spawned by those tasks
 * through `currentScope()` — have finished. The first error, of the body or of any task, is
 * thrown after all of them finished. A worker runs the tasks it spawned newest first (LIFO), as
 * Rayon's `scope` does; `scopeFifo` runs them oldest first. `scope.spawnBroadcast(task, ...args)`
 * runs a call once on every worker as part of the scope.
 */
export function scope<R>(body: (scope: Scope) => R): R {
  return workerOperations('scope').scope(body);
}

/**
 * Like `scope`, but the tasks spawned with `scope.spawnFifo(task, ...args)` start in the order
 * they were spawned (Rayon's `scope_fifo`): a worker runs the tasks it spawned into the scope
 * oldest first, where `spawn` runs them newest first. Idle workers may still steal them, oldest
 * first; tasks spawned by different workers keep no order among each other. Tasks spawned in it
 * spawn more with `currentScopeFifo()`.
 *
 * @example
 * ```ts
 * export function frames(count: number): void {
 *   scopeFifo((s) => {
 *     for (let i = 0; i < count; i++) s.spawnFifo(renderFrame, i); // frame 0 starts first
 *   });
 * }
 * ```
 */
export function scopeFifo<R>(body: (scope: ScopeFifo) => R): R {
  return workerOperations('scopeFifo').scopeFifo(body);
}

/**
 * The scope the running task was spawned into, so that it can spawn more work into the same scope;
 * `undefined` when the task was not spawned into a scope (or outside a worker), or when that scope
 * was opened with `scopeFifo` (see `currentScopeFifo`). Available in the synchronous part of a task.
 */
export function currentScope(): Scope | undefined {
  const current = forkJoin()?.currentScope();
  return current === undefined || isFifo(current) ? undefined : current;
}

/**
 * As `currentScope`, for a scope opened with `scopeFifo`: `undefined` when the innermost scope is
 * an ordinary one, or there is none.
 */
export function currentScopeFifo(): ScopeFifo | undefined {
  const current = forkJoin()?.currentScope();
  return current !== undefined && isFifo(current) ? current : undefined;
}

/** Runs `task(...args)` once on every worker of the pool and returns the results by worker index. */
export function broadcast<F extends AnyFunction>(task: F, ...args: Parameters<F>): ReturnType<F>[] {
  return workerOperations('broadcast').broadcast(task as AnyFunction, args) as ReturnType<F>[];
}

/**
 * A parallel iterator over a `range(start, end)`, an array or a typed array (a typed array over a
 * SharedArrayBuffer is shared, not copied). Pieces are split with `join` by Rayon's adaptive
 * splitter and may run on any worker, so the step functions must be tasks the module exports.
 *
 * @example `const total = parIter(range(0, 1_000_000)).map(square).sum();`
 */
export function parIter<S extends IterSource<unknown>>(source: S): ParIter<ItemOf<S>> {
  return workerOperations('parIter').parIter(source) as unknown as ParIter<ItemOf<S>>;
}

/**
 * Sorts a typed array by value, in parallel, as `TypedArray.prototype.sort` does (NaN last, -0
 * before +0), and returns it, sorted in place: Rayon's `par_sort`, a stable merge sort whose halves
 * idle workers may take (docs/guide/sort.md). A view over a plain ArrayBuffer is copied into shared
 * memory and written back; below 32,768 items it sorts on this thread.
 *
 * @example `parSort(prices); // a Float64Array, now ascending`
 */
export function parSort<T extends NumericArray>(view: T): T {
  return workerOperations('parSort').sort(view, undefined, 'parSort');
}

/**
 * `parSort` without the promise that equal items keep their order (Rayon's `par_sort_unstable`).
 * Equal numbers cannot be told apart, so today it runs the same merge sort.
 */
export function parSortUnstable<T extends NumericArray>(view: T): T {
  return workerOperations('parSortUnstable').sort(view, undefined, 'parSortUnstable');
}

/**
 * Sorts a typed array or an array in parallel by `compare`, a task the module exports
 * (`(a, b) => number`, negative when `a` goes first), stably, and returns it, sorted in place. An
 * array is sorted like `Array.prototype.sort` (`undefined` and holes last, its own objects kept);
 * its items are copied to shared memory for the other workers, which sort their indices.
 *
 * @example `parSortBy(people, byAge); // byAge is an export of this module`
 */
export function parSortBy<T extends NumericArray | unknown[]>(target: T, compare: (a: SortItem<T>, b: SortItem<T>) => number): T {
  return workerOperations('parSortBy').sort(target, compare, 'parSortBy');
}

/**
 * Runs one pending job on this worker if there is one: `'executed'` or `'idle'`; `undefined`
 * outside a worker.
 */
export function yieldNow(): 'executed' | 'idle' | undefined {
  return forkJoin()?.yieldNow();
}

/**
 * Whether the caller of the running task aborted it (the `signal` of `pool.with({ signal })`): the
 * caller has stopped waiting and the result will be dropped, so a long task may stop early. Cheap
 * enough to check in a loop (one shared-memory read per task on the stack). False outside a worker.
 */
export function isCancelled(): boolean {
  return cancellation()?.isCancelled() ?? false;
}

/** Throws viscose's `AbortError` (code `VISCOSE_ABORTED`) if `isCancelled()`. */
export function throwIfCancelled(): void {
  if (isCancelled()) throw abortedError();
}

/**
 * An AbortSignal that aborts (with an `AbortError`) when the caller of the running task aborts it
 * or its timeout passes: for an asynchronous task to hand to `fetch`, timers or streams. Call it in
 * the task's synchronous part, before its first `await`. The worker looks for the abort every few
 * milliseconds while the task's awaits let its event loop run; a synchronous task checks
 * `isCancelled()` instead.
 */
export function taskSignal(): AbortSignal {
  const current = cancellation();
  if (current === undefined) throw new ThreadPoolError('taskSignal() can only be called from a task running on a viscose worker');
  return current.signal();
}

/**
 * Sends an event to the `onEvent` listener of the call the running task works for (the main-thread
 * call made with `pool.with({ onEvent })`): from the task itself, from work it forked (`join`
 * halves, scope spawns, parallel-iterator steps) on whichever worker runs it, and from an
 * asynchronous task after its awaits. The listener is called on the main thread with
 * `(event, payload)`; the events of one worker arrive in the order they were emitted, and every
 * event emitted before the task returned is delivered before the call's promise settles.
 *
 * Returns whether the event was queued for delivery. It is dropped, and `false` returned, when the
 * call has no listener (nothing is sent then), when the call is over (settled, timed out, aborted),
 * when this worker already has 1,024 events the main thread has not taken yet (a task emitting
 * faster than the main thread reads), or outside a worker.
 *
 * `payload` may hold what a task's result may hold; one that cannot be sent makes `emit` throw
 * EncodeError (or PayloadTooLargeError) naming why, when the event would have been queued.
 *
 * @example
 * ```ts
 * export function crunch(items: number[]): number {
 *   for (let i = 0; i < items.length; i++) {
 *     work(items[i]);
 *     if (i % 1000 === 0) emit('progress', i / items.length);
 *   }
 *   return items.length;
 * }
 * // main thread: await pool.with({ onEvent: (event, done) => bar.update(done) }).run('crunch', items);
 * ```
 */
export function emit(event: string, payload?: unknown): boolean {
  return taskEvents()?.(event, payload) ?? false;
}

/**
 * Index of the worker thread running the caller, from 0 to `currentNumThreads() - 1`, or
 * `undefined` when called outside a viscose worker (on the main thread, say).
 */
export function currentThreadIndex(): number | undefined {
  return workerIdentity()?.index;
}

/**
 * Number of worker threads of the pool running the caller (an elastic pool's `maxThreads`: the
 * indices a worker may have), or `undefined` outside a worker.
 */
export function currentNumThreads(): number | undefined {
  return workerIdentity()?.numThreads;
}

/** Name of the worker thread running the caller (`prefix-index`), or `undefined` outside a worker. */
export function currentThreadName(): string | undefined {
  return workerIdentity()?.name;
}
