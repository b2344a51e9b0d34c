/**
 * `scope`, `scopeFifo` and their spawns for task code on a worker, and `currentScope`. A scope takes
 * a slot of the worker's nested region as its record (scope-records.ts, docs/internals/scopes.md);
 * its spawned tasks are forked work (forked-tasks.ts) that counts itself out of the record wherever
 * it runs, and the scope's body waits in the worker until the count is back to zero, then rethrows
 * the first error. `spawn` pushes to the worker's deque (newest first for the worker itself),
 * `spawnFifo` to a FIFO lane with a pointer on the deque (fifo-lanes.ts), `spawnBroadcast` one part
 * to every worker's mailbox. A spawn that finds no free slot, a full deque or no free lane runs
 * inline, and so does every spawn of a scope that got no record.
 */
import type { EncodedPayload } from '../codec/payload.js';
import type { AnyFunction } from '../pool/types.js';
import { SlotField, SlotFlag, type SlotTable } from '../shm/slot.js';
import { broadcast, postToEach } from './join.js';
import { callSync, isThenable } from './outcomes.js';
import type { RunningTasks } from './running-tasks.js';
import type { TaskFunction } from './task-table.js';
import type { WorkerThread } from './worker-thread.js';

/** A scope as task code sees it: spawn more work into it. */
export interface Scope {
  /**
   * Queues `task(...args)` as part of this scope; idle workers may steal it. The worker that
   * spawned it runs its own spawns newest first (LIFO).
   */
  spawn<F extends AnyFunction>(task: F, ...args: Parameters<F>): void;
  /**
   * Queues `task(...args)` once for every worker of the pool, as part of this scope: the scope
   * waits for all of them. Each runs on its own worker (`currentThreadIndex()` says which).
   */
  spawnBroadcast<F extends AnyFunction>(task: F, ...args: Parameters<F>): void;
}

/** A scope opened with `scopeFifo`: its spawns start in the order each worker spawned them. */
export interface ScopeFifo {
  /**
   * Queues `task(...args)` as part of this scope; idle workers may steal it. The worker that
   * spawned it starts its own spawns oldest first (FIFO).
   */
  spawnFifo<F extends AnyFunction>(task: F, ...args: Parameters<F>): void;
  /** As Scope.spawnBroadcast. */
  spawnBroadcast<F extends AnyFunction>(task: F, ...args: Parameters<F>): void;
}

/** Either kind of scope. */
export type AnyScope = Scope | ScopeFifo;

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
  private readonly stack: { scope: AnyScope; record: number; depth: number }[] = [];

  constructor(
    private readonly running: RunningTasks,
    private readonly slots: SlotTable,
  ) {}

  /** The record of the innermost scope the running code is part of, -1 for none: what forked work is told it sees. */
  record(): number {
    return this.here()?.record ?? this.slotScope();
  }

  /** The innermost scope entered on this stack by the running task, if any. */
  here(): { scope: AnyScope; record: number } | undefined {
    const innermost = this.stack[this.stack.length - 1];
    return innermost !== undefined && innermost.depth === this.running.depth ? innermost : undefined;
  }

  /** The scope the running task's slot says it sees, -1 for none. */
  slotScope(): number {
    const slot = this.running.current;
    return slot < 0 ? -1 : this.slots.words[this.slots.word(slot, SlotField.VISIBLE_SCOPE)];
  }

  /** Runs `code` here and now as part of `scope` (record `record`). */
  see<T>(scope: AnyScope, record: number, code: () => T): T {
    this.stack.push({ scope, record, depth: this.running.depth });
    try {
      return code();
    } finally {
      this.stack.pop();
    }
  }
}

/** `scope` (fifo false) or `scopeFifo` (fifo true) on this worker. */
export function openScope<R>(worker: WorkerThread, fifo: boolean, body: (scope: AnyScope) => R): R {
  const { forked, scopes, visible } = worker;
  const record = forked.nested.allocate();
  if (record < 0) return inlineScope(worker, fifo, body);
  scopes.open(record, fifo);
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
export function currentScope(worker: WorkerThread): AnyScope | undefined {
  const here = worker.visible.here();
  if (here !== undefined) return here.scope;
  const record = worker.visible.slotScope();
  return record < 0 ? undefined : scopeHandle(worker, record);
}

/** Whether a scope handle is a FIFO scope's. */
export function isFifo(scope: AnyScope): scope is ScopeFifo {
  return 'spawnFifo' in scope;
}

function scopeHandle(worker: WorkerThread, record: number): AnyScope {
  const spawnBroadcast = (task: TaskFunction, ...args: unknown[]) => spawnBroadcastInto(worker, record, task, args);
  if (worker.scopes.isFifo(record)) {
    return { spawnFifo: (task, ...args) => spawnFifo(worker, record, task as TaskFunction, args), spawnBroadcast } as ScopeFifo;
  }
  return { spawn: (task, ...args) => spawn(worker, record, task as TaskFunction, args), spawnBroadcast } as Scope;
}

/** Writes a task spawned into `record` into a slot of this worker's region, not yet visible. */
function writeSpawn(worker: WorkerThread, record: number, slot: number, task: number, payload: EncodedPayload): void {
  // A worker's scope waits for its tasks synchronously; the main thread's awaits them.
  const flags = SlotFlag.DISCARD_RESULT | (worker.scopes.openedByWorker(record) ? SlotFlag.SYNC_ONLY : 0);
  worker.forked.write(slot, task, payload, flags, record, record);
}

/** Counts a written spawn into its scope and makes it QUEUED; returns its queue entry. */
function countIn(worker: WorkerThread, record: number, slot: number): number {
  const { forked } = worker;
  const entry = worker.scopes.addSpawn(record, slot, () => forked.enqueue(slot));
  forked.nested.handedToScope(slot);
  return entry;
}

function spawn(worker: WorkerThread, record: number, fn: TaskFunction, args: unknown[]): void {
  const task = worker.tasks.idOf(fn, 'spawn');
  const { forked } = worker;
  // Once counted into the scope a spawn must reach the deque: make sure first that it fits (only
  // this worker pushes, so the room cannot vanish).
  const slot = forked.hasRoom() ? forked.nested.allocate() : -1;
  if (slot < 0) {
    spawnInline(worker, record, fn, args, task);
    return;
  }
  try {
    writeSpawn(worker, record, slot, task, forked.encodeArgs(args));
  } catch (error) {
    forked.nested.release(slot);
    throw error;
  }
  forked.push(countIn(worker, record, slot));
}

/**
 * The job goes to this worker's FIFO lane for the scope, then a pointer to the lane goes on its
 * deque (fifo-lanes.ts): whoever claims the pointer runs the lane's oldest job.
 */
function spawnFifo(worker: WorkerThread, record: number, fn: TaskFunction, args: unknown[]): void {
  const task = worker.tasks.idOf(fn, 'spawnFifo');
  const { forked, fifo } = worker;
  const { nested } = forked;
  // Once counted the job must reach its lane and the pointer the deque: room for both first.
  const lane = forked.hasRoom() ? fifo.laneFor(record) : -1;
  const job = lane >= 0 ? nested.allocate() : -1;
  const pointer = job >= 0 ? nested.allocate() : -1;
  if (pointer < 0) {
    if (job >= 0) nested.release(job);
    spawnInline(worker, record, fn, args, task);
    return;
  }
  try {
    writeSpawn(worker, record, job, task, forked.encodeArgs(args));
  } catch (error) {
    nested.release(job);
    nested.release(pointer);
    throw error;
  }
  forked.writePointer(pointer, lane);
  fifo.push(lane, countIn(worker, record, job));
  forked.push(forked.enqueue(pointer));
  nested.handedToScope(pointer);
}

/** One part per worker, each counted into the scope, then posted to that worker's mailbox. */
function spawnBroadcastInto(worker: WorkerThread, record: number, fn: TaskFunction, args: unknown[]): void {
  const task = worker.tasks.idOf(fn, 'spawnBroadcast');
  const { forked } = worker;
  const targets = forked.broadcastTargets();
  const parts = forked.allocateParts('spawnBroadcast', targets.length);
  try {
    const payload = forked.encodeArgs(args);
    for (const slot of parts) writeSpawn(worker, record, slot, task, payload);
  } catch (error) {
    for (const slot of parts) forked.nested.release(slot);
    throw error;
  }
  postToEach(
    worker,
    targets,
    parts.map((slot) => countIn(worker, record, slot)),
  );
}

/** No room to queue a spawn: run it now, as part of the scope. */
function spawnInline(worker: WorkerThread, record: number, fn: TaskFunction, args: unknown[], task: number): void {
  try {
    worker.visible.see(scopeHandle(worker, record), record, () => callSync(fn, args, 'spawn'));
  } catch (error) {
    worker.scopes.recordError(record, error, task);
  }
}

/**
 * A scope for which no record slot was free: every spawn runs inline, in order, and a broadcast
 * runs as `broadcast` does, waiting for its parts.
 */
function inlineScope<R>(worker: WorkerThread, fifo: boolean, body: (scope: AnyScope) => R): R {
  const { visible } = worker;
  let first: { error: unknown } | undefined;
  const attempt = (code: () => unknown): void => {
    try {
      visible.see(scope, -1, code);
    } catch (error) {
      first ??= { error };
    }
  };
  const spawnHere =
    (operation: string) =>
    (task: TaskFunction, ...args: unknown[]) => {
      worker.tasks.idOf(task, operation);
      attempt(() => callSync(task, args, operation));
    };
  const spawnBroadcast = (task: TaskFunction, ...args: unknown[]) => attempt(() => broadcast(worker, task, args));
  const scope = (fifo ? { spawnFifo: spawnHere('spawnFifo'), spawnBroadcast } : { spawn: spawnHere('spawn'), spawnBroadcast }) as AnyScope;
  let result: R;
  try {
    result = visible.see(scope, -1, () => body(scope));
  } catch (error) {
    throw first === undefined ? error : first.error;
  }
  if (first !== undefined) throw first.error;
  return result;
}
