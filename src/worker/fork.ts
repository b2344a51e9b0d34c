/**
 * Rayon's fork-join operations for synchronous task code: `join`, `scope` (with `spawn`),
 * `broadcast` and `yieldNow`. Forked work goes into slots of this worker's own region, queued on
 * its deque (or, for a broadcast, in each worker's mailbox); idle workers steal it.
 *
 * - join(a, b): b is queued, a runs inline, then b is popped back and run inline with its original
 *   arguments (never decoded) unless a thief took it; then this worker runs other work until b's
 *   state word says DONE or FAILED (the thief wakes it if it parked). a's error wins over b's.
 * - scope(body): spawned tasks count into a scope record (scope-records.ts); the scope returns
 *   once the count is back to zero, rethrowing the first error.
 * - broadcast(task): one part per worker, posted to each mailbox; results in worker order.
 */
import type { EncodedPayload, PayloadCodec } from '../codec/payload.js';
import { Destination } from '../codec/passed-buffers.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { NotATaskError, ThreadPoolError } from '../errors.js';
import { EMPTY, type WorkQueue } from '../queue/work-queue.js';
import type { Mailbox } from '../queue/mailbox.js';
import { type Layout, nestedOwner } from '../shm/layout.js';
import { ERROR_WRITING, ERROR_WRITTEN, SlotField, SlotFlag, SlotState, type SlotTable, stateOf } from '../shm/slot.js';
import { lostScopeError } from '../shm/scope-count.js';
import type { Sleep } from '../sync/sleep.js';
import type { Executor, TaskFunction } from './executor.js';
import type { NestedSlots } from './nested-slots.js';
import { isThenable } from './outcomes.js';
import type { ScopeRecords } from './scope-records.js';
import type { WorkerRuntime } from './runtime.js';
import { type IterSource, ParIterChain } from '../iter/par-iter.js';
import type { ParIterRunner } from '../iter/runner.js';
import { publishQueued } from '../shm/slot-protocol.js';

export interface ForkParts {
  layout: Layout;
  slots: SlotTable;
  codec: PayloadCodec;
  sleep: Sleep;
  runtime: WorkerRuntime;
  executor: Executor;
  nested: NestedSlots;
  scopes: ScopeRecords;
  mailboxes: Mailbox[];
  /** Task id of each exported task function. */
  taskIds: Map<unknown, number>;
  runner: ParIterRunner;
}

/** A scope as task code sees it: spawn more work into it. */
export interface Scope {
  /** Queues `task(...args)` as part of this scope; idle workers may steal it. */
  spawn<F extends TaskFunction>(task: F, ...args: Parameters<F>): void;
}

export class ForkJoin {
  private readonly words: Int32Array;
  private readonly own: WorkQueue;
  /**
   * Scopes that code running right here sees, innermost last, with the executor's depth when they
   * began: the bodies of scopes opened on this stack, and spawns that had to run inline. They stop
   * applying when the executor runs a queued task on top of them. `record` is -1 for a scope that
   * got no record slot (its spawns all run inline, so nothing forked needs to name it).
   */
  private readonly visible: { scope: Scope; record: number; depth: number }[] = [];

  constructor(private readonly parts: ForkParts) {
    this.words = parts.slots.words;
    this.own = parts.runtime.own;
  }

  join(fa: TaskFunction, argsA: unknown[], fb: TaskFunction, argsB: unknown[]): [unknown, unknown] {
    return this.forkJoin(
      () => callSync(fa, argsA, 'join (first call)'),
      this.taskId(fb, 'join (second call)'),
      argsB,
      () => callSync(fb, argsB, 'join (second call)'),
    );
  }

  /**
   * join, with the second half given twice: as a task id and arguments, for a thief, and as a
   * function that runs it here, for when it is not stolen.
   */
  forkJoin(a: () => unknown, taskB: number, argsB: unknown[], b: () => unknown): [unknown, unknown] {
    const { nested, codec, runtime } = this.parts;
    const slot = nested.allocate();
    let entry = -1;
    if (slot >= 0) {
      try {
        entry = this.publish(slot, taskB, this.encodeArgs(argsB), SlotFlag.SYNC_ONLY, -1, this.visibleRecord());
      } finally {
        if (entry < 0) nested.release(slot);
      }
    }
    let resultA: unknown;
    let failureA: { error: unknown } | undefined;
    try {
      resultA = a();
    } catch (error) {
      failureA = { error };
    }
    let resultB: unknown;
    let failureB: { error: unknown } | undefined;
    if (entry < 0 || this.takeBack(entry)) {
      // Not stolen (or never queued): run it here with the original arguments, nothing decoded.
      if (entry >= 0) {
        codec.release(slot);
        nested.release(slot);
      }
      try {
        resultB = b();
      } catch (error) {
        failureB = { error };
      }
    } else {
      runtime.waitUntil(() => this.finished(slot));
      const outcome = this.collect(slot);
      if (outcome.failed) failureB = { error: outcome.value };
      else resultB = outcome.value;
    }
    if (failureA !== undefined) throw failureA.error;
    if (failureB !== undefined) throw failureB.error;
    return [resultA, resultB];
  }

  scope<R>(body: (scope: Scope) => R): R {
    const { nested, scopes, runtime, codec } = this.parts;
    const record = nested.allocate();
    if (record < 0) return this.inlineScope(body);
    scopes.open(record);
    let result: R | undefined;
    let bodyError: unknown;
    let bodyFailed = false;
    try {
      const handle = this.scopeHandle(record);
      result = this.seeing(handle, record, () => body(handle));
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
    runtime.waitUntil(() => scopes.isComplete(record));
    const errorState = scopes.errorState(record);
    let error: unknown = bodyError;
    if (errorState === ERROR_WRITTEN) {
      // [task id, worker index, error] of the first task that failed.
      error = (codec.loadValue(record) as [number, number, unknown])[2];
      codec.release(record);
    } else if (errorState === ERROR_WRITING) {
      error = lostScopeError();
    }
    nested.release(record);
    if (errorState !== 0) throw error;
    return result as R;
  }

  /**
   * The innermost scope the running code is part of: the body of a scope opened here, a task
   * spawned into a scope, or work forked from either (a join's halves, wherever they run).
   */
  currentScope(): Scope | undefined {
    const here = this.visibleHere();
    if (here !== undefined) return here.scope;
    const record = this.slotScope();
    return record < 0 ? undefined : this.scopeHandle(record);
  }

  /** The record of currentScope(), -1 for none: what forked work is told it sees. */
  private visibleRecord(): number {
    return this.visibleHere()?.record ?? this.slotScope();
  }

  private visibleHere(): { scope: Scope; record: number } | undefined {
    const innermost = this.visible[this.visible.length - 1];
    return innermost !== undefined && innermost.depth === this.parts.executor.runningDepth ? innermost : undefined;
  }

  /** The scope the running task's slot says it sees, -1 for none. */
  private slotScope(): number {
    const slot = this.parts.executor.currentSlot;
    return slot < 0 ? -1 : this.words[this.parts.slots.word(slot, SlotField.VISIBLE_SCOPE)];
  }

  broadcast(fn: TaskFunction, args: unknown[]): unknown[] {
    const task = this.taskId(fn, 'broadcast');
    const { nested, mailboxes, runtime, sleep } = this.parts;
    const workers = mailboxes.length;
    const parts: number[] = [];
    for (let i = 0; i < workers; i++) {
      const slot = nested.allocate();
      if (slot < 0) {
        for (const taken of parts) nested.release(taken);
        throw new ThreadPoolError(
          `a broadcast to ${workers} workers needs ${workers} free nested slots on this worker: raise nestedTasksPerWorker`,
        );
      }
      parts.push(slot);
    }
    let entries: number[];
    try {
      const payload = this.encodeArgs(args);
      const visibleScope = this.visibleRecord();
      entries = parts.map((slot) => this.prepare(slot, task, payload, SlotFlag.SYNC_ONLY, -1, visibleScope));
    } catch (error) {
      for (const slot of parts) nested.release(slot);
      throw error;
    }
    for (let i = 0; i < workers; i++) {
      // A full mailbox empties as its worker runs what it holds: work meanwhile, then retry.
      runtime.waitUntil(() => mailboxes[i].post(entries[i]));
      sleep.wake(i);
    }
    runtime.waitUntil(() => parts.every((slot) => this.finished(slot)));
    let failure: { error: unknown } | undefined;
    const results = parts.map((slot) => {
      const outcome = this.collect(slot);
      if (outcome.failed) failure ??= { error: outcome.value };
      return outcome.value;
    });
    if (failure !== undefined) throw failure.error;
    return results;
  }

  /** A parallel iterator over `source`, run by this worker's pipeline runner. */
  parIter(source: IterSource<unknown>): ParIterChain {
    return ParIterChain.over(
      source,
      (task, where) => this.taskId(task, where),
      (finish) => this.parts.runner.run(finish()),
    );
  }

  /** Runs one job if there is one; returns whether it did. */
  yieldNow(): 'executed' | 'idle' {
    return this.parts.runtime.runOne() ? 'executed' : 'idle';
  }

  // ---- pieces --------------------------------------------------------------------------------

  private taskId(fn: unknown, where: string): number {
    const id = this.parts.taskIds.get(fn);
    if (id === undefined) throw new NotATaskError(where, fn);
    return id;
  }

  /**
   * Stores a task in a slot of this worker's region and makes it QUEUED; returns its queue entry.
   * The payload descriptor and header are written before the state store that publishes them.
   */
  private prepare(slot: number, task: number, payload: EncodedPayload, flags: number, scope: number, visibleScope: number): number {
    this.writeTask(slot, task, payload, flags, scope, visibleScope);
    return this.enqueue(slot);
  }

  /** Encodes the arguments of forked work, which any worker may decode (or none). */
  private encodeArgs(args: unknown[]): EncodedPayload {
    return sharedBuffers.passed.encodingFor(Destination.EVERY_WORKER, () => this.parts.codec.encodeList(args, 'args'));
  }

  /**
   * `payload` from encodeArgs; `scope`: the record the task belongs to (-1 for none);
   * `visibleScope`: see VISIBLE_SCOPE. The buffers the payload passes are posted before anyone can
   * find the task, and lent while the slot holds it.
   */
  private writeTask(slot: number, task: number, payload: EncodedPayload, flags: number, scope: number, visibleScope: number): void {
    const { slots, codec, nested } = this.parts;
    const words = this.words;
    codec.store(slot, payload);
    nested.lend(slot, sharedBuffers.passed.send(Destination.EVERY_WORKER));
    words[slots.word(slot, SlotField.TASK)] = task;
    words[slots.word(slot, SlotField.BATCH)] = 0;
    words[slots.word(slot, SlotField.FLAGS)] = flags;
    words[slots.word(slot, SlotField.SCOPE)] = scope;
    words[slots.word(slot, SlotField.VISIBLE_SCOPE)] = visibleScope;
    const forker = this.parts.executor.currentSlot;
    words[slots.word(slot, SlotField.ROOT)] = forker < 0 ? slot : words[slots.word(forker, SlotField.ROOT)];
  }

  /** Makes a slot whose task is written QUEUED; returns its queue entry. */
  private enqueue(slot: number): number {
    const { slots } = this.parts;
    const queued = publishQueued(this.words, slots.word(slot, SlotField.STATE));
    return slots.entryFor(slot, queued);
  }

  /** prepare(), then push to this worker's deque; returns the entry, or -1 if the deque is full. */
  private publish(slot: number, task: number, payload: EncodedPayload, flags: number, scope: number, visibleScope: number): number {
    if (!this.own.hasRoom()) return -1;
    const entry = this.prepare(slot, task, payload, flags, scope, visibleScope);
    this.own.push(entry);
    this.parts.sleep.forkedJob(this.own);
    return entry;
  }

  /**
   * Pops this worker's deque back down to `entry`, running whatever else it finds above it. Returns
   * true if it got `entry` back (the caller runs that task itself), false if a thief took it.
   */
  private takeBack(entry: number): boolean {
    const { executor, runtime } = this.parts;
    for (;;) {
      const popped = this.own.pop();
      if (popped === EMPTY) return false;
      // A thief claims before it removes the entry, so popping ours is not yet owning it: the claim
      // decides (a failed one means a thief has it).
      const slot = runtime.claims.claim(popped);
      if (popped === entry) return slot >= 0;
      if (slot >= 0) executor.run(slot);
    }
  }

  private finished(slot: number): boolean {
    const state = stateOf(Atomics.load(this.words, this.parts.slots.word(slot, SlotField.STATE)));
    return state === SlotState.DONE || state === SlotState.FAILED;
  }

  /** Reads a finished slot's outcome and frees the slot. */
  private collect(slot: number): { failed: boolean; value: unknown } {
    const { slots, codec, nested } = this.parts;
    const failed = stateOf(Atomics.load(this.words, slots.word(slot, SlotField.STATE))) === SlotState.FAILED;
    let value: unknown;
    try {
      value = codec.loadValue(slot);
    } catch (error) {
      return { failed: true, value: error };
    } finally {
      codec.release(slot);
      nested.release(slot);
    }
    return { failed, value };
  }

  private scopeHandle(record: number): Scope {
    return {
      spawn: (task, ...args) => this.spawn(record, task as TaskFunction, args),
    };
  }

  private spawn(record: number, fn: TaskFunction, args: unknown[]): void {
    const task = this.taskId(fn, 'spawn');
    const { nested, scopes, layout, sleep } = this.parts;
    // Once counted into the scope a spawn must reach the deque: make sure first that it fits (only
    // this worker pushes, so the room cannot vanish).
    const slot = this.own.hasRoom() ? nested.allocate() : -1;
    if (slot < 0) {
      this.spawnInline(record, fn, args, task);
      return;
    }
    try {
      // A worker's scope waits for its tasks synchronously; the main thread's awaits them.
      const flags = SlotFlag.DISCARD_RESULT | (nestedOwner(layout, record) >= 0 ? SlotFlag.SYNC_ONLY : 0);
      this.writeTask(slot, task, this.encodeArgs(args), flags, record, record);
    } catch (error) {
      nested.release(slot);
      throw error;
    }
    this.own.push(scopes.addSpawn(record, slot, () => this.enqueue(slot)));
    sleep.forkedJob(this.own);
    nested.handedToScope(slot);
  }

  /** No room to queue a spawn: run it now, as part of the scope. */
  private spawnInline(record: number, fn: TaskFunction, args: unknown[], task: number): void {
    try {
      this.seeing(this.scopeHandle(record), record, () => callSync(fn, args, 'spawn'));
    } catch (error) {
      this.parts.scopes.recordError(record, error, task);
    }
  }

  /** Runs `code` here and now with currentScope() returning `scope` (record `record`). */
  private seeing<T>(scope: Scope, record: number, code: () => T): T {
    this.visible.push({ scope, record, depth: this.parts.executor.runningDepth });
    try {
      return code();
    } finally {
      this.visible.pop();
    }
  }

  /** A scope for which no record slot was free: every spawn runs inline, in order. */
  private inlineScope<R>(body: (scope: Scope) => R): R {
    let first: { error: unknown } | undefined;
    const scope: Scope = {
      spawn: (task, ...args) => {
        this.taskId(task, 'spawn');
        try {
          this.seeing(scope, -1, () => callSync(task as TaskFunction, args, 'spawn'));
        } catch (error) {
          first ??= { error };
        }
      },
    };
    let result: R;
    try {
      result = this.seeing(scope, -1, () => body(scope));
    } catch (error) {
      throw first === undefined ? error : first.error;
    }
    if (first !== undefined) throw first.error;
    return result;
  }
}

/** Calls a function that must not return a promise (its caller waits for it synchronously). */
function callSync(fn: TaskFunction, args: unknown[], where: string): unknown {
  const result = fn(...args);
  if (isThenable(result)) {
    result.then(undefined, () => {});
    throw new TypeError(`${where}: the task returned a promise; tasks started inside a task must be synchronous`);
  }
  return result;
}
