/**
 * The fork-join operations task code reaches through `viscose/worker` (context.ts keeps them for
 * the thread): Rayon's `join` and `broadcast` (join.ts), `scope`, `scopeFifo` and `currentScope` (scope.ts),
 * parallel iterators, parallel sorts and `yieldNow`, each over this thread's worker.
 */
import { inlineStepSource } from '../iter/inline-step.js';
import { type IterSource, ParIterChain, type TaskResolver } from '../iter/par-iter.js';
import { broadcast, join } from './join.js';
import { type AnyScope, type Scope, type ScopeFifo, currentScope, openScope } from './scope.js';
import type { TaskFunction } from './task-table.js';
import type { WorkerThread } from './worker-thread.js';

export interface ForkJoinOperations {
  join(fa: TaskFunction, argsA: unknown[], fb: TaskFunction, argsB: unknown[]): [unknown, unknown];
  scope<R>(body: (scope: Scope) => R): R;
  scopeFifo<R>(body: (scope: ScopeFifo) => R): R;
  /** The innermost scope the running code is part of, of either kind. */
  currentScope(): AnyScope | undefined;
  broadcast(fn: TaskFunction, args: unknown[]): unknown[];
  /** A parallel iterator over `source`, run by this worker's pipeline runner. */
  parIter(source: IterSource<unknown>): ParIterChain;
  /** Sorts `target` in place by `compare`, an exported task, or by value without one (src/sort/runner.ts). */
  sort<T>(target: T, compare: unknown, where: string): T;
  /** Runs one job if there is one; returns whether it did. */
  yieldNow(): 'executed' | 'idle';
}

export function forkJoinOperations(worker: WorkerThread): ForkJoinOperations {
  // An exported task by id; any other function as an inline step, if it is self-contained. One
  // for the thread, which is how chain and zip know an iterator was made here.
  const resolveStep: TaskResolver = (task, where) =>
    worker.tasks.exportedId(task) ??
    (typeof task === 'function' ? inlineStepSource(task as TaskFunction, where) : worker.tasks.idOf(task, where));
  return {
    join: (fa, argsA, fb, argsB) => join(worker, fa, argsA, fb, argsB),
    scope: (body) => openScope(worker, false, body as (scope: AnyScope) => ReturnType<typeof body>),
    scopeFifo: (body) => openScope(worker, true, body as (scope: AnyScope) => ReturnType<typeof body>),
    currentScope: () => currentScope(worker),
    broadcast: (fn, args) => broadcast(worker, fn, args),
    parIter: (source) => ParIterChain.over(source, resolveStep, (finish) => worker.pieces.run(finish())),
    sort: (target, compare, where) => worker.sorts.sortHere(target, compare, where),
    yieldNow: () => (worker.runOne() ? 'executed' : 'idle'),
  };
}
