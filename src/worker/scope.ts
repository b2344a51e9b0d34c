/**
 * `scope` and `spawn` for task code on a worker, and `currentScope`. A scope takes a slot of the
 * worker's nested region as its record (scope-records.ts, docs/internals/scopes.md); its spawned
 * tasks are forked work (forked-tasks.ts) that counts itself out of the record wherever it runs,
 * and the scope's body waits in the worker until the count is back to zero, then rethrows the
 * first error. A spawn that finds no free slot or a full deque runs inline, and so does every
 * spawn of a scope that got no record.
 */
import { SlotField, SlotFlag, type SlotTable } from '../shm/slot.js';
import { callSync, isThenable } from './outcomes.js';
import type { RunningTasks } from './running-tasks.js';
import type { TaskFunction } from './task-table.js';
import type { WorkerThread } from './worker-thread.js';

/** A scope as task code sees it: spawn more work into it. */
export interface Scope {
  /** Queues `task(...args)` as part of this scope; idle workers may steal it. */
  spawn<F extends TaskFunction>(task: F, ...args: Parameters<F>): void;
}

/**
 * Which scope the code running on this thread is part of: the body of a scope opened on this
 * stack, a spawn that had to run inline, or the scope that the running task's slot names.
 */
export class VisibleScopes {
  /**
   * Scopes that code running right here sees, innermost last, with the running depth when they
   * began: the bodies of scopes opened on this stack, and spawns that had to run inline. They stop
   * applying when the executor runs a queued task on top of them. `record` is -1 for a scope that
   * got no record slot (its spawns all run inline, so nothing forked needs to name it).
   */
  private readonly stack: { scope: Scope; record: number; depth: number }[] = [];

  constructor(
    private readonly running: RunningTasks,
    private readonly slots: SlotTable,
  ) {}

  /** The record of the innermost scope the running code is part of, -1 for none: what forked work is told it sees. */
  record(): number {
    return this.here()?.record ?? this.slotScope();
  }

  /** The innermost scope entered on this stack by the running task, if any. */
  here(): { scope: Scope; record: number } | undefined {
    const innermost = this.stack[this.stack.length - 1];
    return innermost !== undefined && innermost.depth === this.running.depth ? innermost : undefined;
  }

  /** The scope the running task's slot says it sees, -1 for none. */
  slotScope(): number {
    const slot = this.running.current;
    return slot < 0 ? -1 : this.slots.words[this.slots.word(slot, SlotField.VISIBLE_SCOPE)];
  }

  /** Runs `code` here and now as part of `scope` (record `record`). */
  see<T>(scope: Scope, record: number, code: () => T): T {
    this.stack.push({ scope, record, depth: this.running.depth });
    try {
      return code();
    } finally {
      this.stack.pop();
    }
  }
}

export function scope<R>(worker: WorkerThread, body: (scope: Scope) => R): R {
  const { forked, scopes, visible } = worker;
  const record = forked.nested.allocate();
  if (record < 0) return inlineScope(worker, body);
  scopes.open(record);
  let result: R | undefined;
  let bodyError: unknown;
  let bodyFailed = false;
  try {
    const handle = scopeHandle(worker, record);
    result = visible.see(handle, record, () => body(handle));
    if (isThenable(result)) {
      (result as PromiseLike<unknown>).then(undefined, () => {});
      throw new TypeError('a scope body must be synchronous: it returned a promise');
    }
  } catch (error) {
    bodyFailed = true;
    bodyError = error;
  }
  if (bodyFailed) scopes.claimForBody(record);
  scopes.finishPart(record, -1);
  worker.waitUntil(() => scopes.isComplete(record));
  const failure = scopes.firstError(record, bodyError);
  forked.nested.release(record);
  if (failure !== undefined) throw failure.error;
  return result as R;
}

/**
 * The innermost scope the running code is part of: the body of a scope opened here, a task
 * spawned into a scope, or work forked from either (a join's halves, wherever they run).
 */
export function currentScope(worker: WorkerThread): Scope | undefined {
  const here = worker.visible.here();
  if (here !== undefined) return here.scope;
  const record = worker.visible.slotScope();
  return record < 0 ? undefined : scopeHandle(worker, record);
}

function scopeHandle(worker: WorkerThread, record: number): Scope {
  return {
    spawn: (task, ...args) => spawn(worker, record, task as TaskFunction, args),
  };
}

function spawn(worker: WorkerThread, record: number, fn: TaskFunction, args: unknown[]): void {
  const task = worker.tasks.idOf(fn, 'spawn');
  const { forked, scopes } = worker;
  // Once counted into the scope a spawn must reach the deque: make sure first that it fits (only
  // this worker pushes, so the room cannot vanish).
  const slot = forked.hasRoom() ? forked.nested.allocate() : -1;
  if (slot < 0) {
    spawnInline(worker, record, fn, args, task);
    return;
  }
  try {
    // A worker's scope waits for its tasks synchronously; the main thread's awaits them.
    const flags = SlotFlag.DISCARD_RESULT | (scopes.openedByWorker(record) ? SlotFlag.SYNC_ONLY : 0);
    forked.write(slot, task, forked.encodeArgs(args), flags, record, record);
  } catch (error) {
    forked.nested.release(slot);
    throw error;
  }
  forked.push(scopes.addSpawn(record, slot, () => forked.enqueue(slot)));
  forked.nested.handedToScope(slot);
}

/** No room to queue a spawn: run it now, as part of the scope. */
function spawnInline(worker: WorkerThread, record: number, fn: TaskFunction, args: unknown[], task: number): void {
  try {
    worker.visible.see(scopeHandle(worker, record), record, () => callSync(fn, args, 'spawn'));
  } catch (error) {
    worker.scopes.recordError(record, error, task);
  }
}

/** A scope for which no record slot was free: every spawn runs inline, in order. */
function inlineScope<R>(worker: WorkerThread, body: (scope: Scope) => R): R {
  const { visible } = worker;
  let first: { error: unknown } | undefined;
  const scope: Scope = {
    spawn: (task, ...args) => {
      worker.tasks.idOf(task, 'spawn');
      try {
        visible.see(scope, -1, () => callSync(task as TaskFunction, args, 'spawn'));
      } catch (error) {
        first ??= { error };
      }
    },
  };
  let result: R;
  try {
    result = visible.see(scope, -1, () => body(scope));
  } catch (error) {
    throw first === undefined ? error : first.error;
  }
  if (first !== undefined) throw first.error;
  return result;
}
