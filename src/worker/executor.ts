/**
 * Runs the task in a slot this worker claimed, and hands the outcome to whoever waits for it:
 *
 * - a slot of the main thread (a `run`, a batch chunk, a part of a main-thread broadcast): its
 *   outcome goes into the slot, which is published to this worker's completion ring;
 * - a slot of a worker's nested region (the second half of a `join`, a part of a `broadcast`): its
 *   outcome goes into the slot and its state word is the latch the forking worker waits on, which
 *   is woken if it parked;
 * - a task spawned into a scope (its SCOPE word names the record): its result is dropped, a failure
 *   is offered to the record as the scope's first error, and the task counts itself out of the
 *   scope (scope-records.ts);
 * - a FIFO pointer (fifo-lanes.ts): no task of its own; the oldest job of the lane it names runs.
 */
import type { PayloadCodec } from '../codec/payload.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { Destination } from '../codec/passed-buffers.js';
import { type Layout, nestedOwner } from '../shm/layout.js';
import { WorkerCounter, type WorkerCounters } from '../shm/worker-counters.js';
import { SlotField, SlotFlag, SlotState, type SlotTable, SlotTime } from '../shm/slot.js';
import { sharedNow } from '../sync/clock.js';
import type { Sleep } from '../sync/sleep.js';
import { type Cancellation, abortedError } from './cancellation.js';
import type { MainCompletions } from './main-completions.js';
import { crossableError, storeFailure } from './failure-report.js';
import { isThenable } from './outcomes.js';
import type { RunningTasks } from './running-tasks.js';
import type { ScopeRecords } from './scope-records.js';
import type { TaskEvents } from './task-events.js';
import type { TaskFunction, TaskTable } from './task-table.js';
import type { FifoLanes } from './fifo-lanes.js';
import { finish } from '../shm/slot-protocol.js';
import { packJsonValues } from '../codec/json-values.js';

export interface ExecutorParts {
  /** This worker's index. */
  index: number;
  layout: Layout;
  slots: SlotTable;
  codec: PayloadCodec;
  sleep: Sleep;
  tasks: TaskTable;
  /** Where the tasks running on this thread's stack are kept. */
  running: RunningTasks;
  /** Watches asynchronous tasks for their caller giving up. */
  cancellation: Cancellation;
  scopes: ScopeRecords;
  completions: MainCompletions;
  counters: WorkerCounters;
  /** An asynchronous task started / settled: the scheduling loop tracks how many are in flight. */
  asyncTasks: { started(): void; settled(): void };
  /** Every worker's FIFO lanes, which pointers name. */
  fifo: FifoLanes;
  /** What `emit` posts to the main thread, and the root call of an asynchronous task's continuations. */
  events: TaskEvents;
}

export class Executor {
  private readonly words: Int32Array;
  private readonly f64: Float64Array;
  private readonly slots: SlotTable;
  private readonly codec: PayloadCodec;

  constructor(private readonly parts: ExecutorParts) {
    this.words = parts.slots.words;
    this.f64 = new Float64Array(this.words.buffer as SharedArrayBuffer);
    this.slots = parts.slots;
    this.codec = parts.codec;
  }

  /** Runs the task of a slot this worker claimed. */
  run(slot: number): void {
    if ((this.words[this.slots.word(slot, SlotField.FLAGS)] & SlotFlag.FIFO_FRONT) !== 0) {
      this.follow(slot);
      return;
    }
    const outer = sharedBuffers.beginTask();
    try {
      this.runTask(slot);
    } finally {
      sharedBuffers.endTask(outer);
    }
  }

  /**
   * A FIFO pointer this worker claimed: it is finished at once (nobody reads it; its owner frees
   * it), then the oldest job of its lane runs here, if another taker has not run it already.
   */
  private follow(pointer: number): void {
    const lane = this.words[this.slots.word(pointer, SlotField.TASK)];
    this.setState(pointer, SlotState.DONE);
    const job = this.parts.fifo.takeFront(nestedOwner(this.parts.layout, pointer), lane);
    if (job >= 0) this.run(job);
  }

  private runTask(slot: number): void {
    const words = this.words;
    const slots = this.slots;
    const started = sharedNow();
    this.parts.sleep.taskStarted(this.parts.index, started);
    this.f64[slots.timeIndex(slot, SlotTime.STARTED)] = started;
    const task = this.parts.tasks.task(words[slots.word(slot, SlotField.TASK)]);
    const batch = words[slots.word(slot, SlotField.BATCH)];
    let args: unknown[];
    try {
      args = this.codec.loadList(slot);
    } catch (error) {
      this.codec.release(slot);
      this.finish(slot, SlotState.FAILED, batch === 0 ? error : [-1, error]);
      return;
    }
    this.codec.release(slot);
    this.parts.running.enter(slot);
    try {
      // A call's task (only those may be asynchronous) runs in the context of its events, when it
      // has one or another call's is current here; forked work finds its call on the stack.
      if (slot < slots.mainSlots && this.parts.events.needsContext(slot)) {
        this.parts.events.runTask(slot, () => this.runBody(slot, task, args, batch));
      } else {
        this.runBody(slot, task, args, batch);
      }
    } finally {
      this.parts.running.leave();
    }
  }

  private runBody(slot: number, task: TaskFunction, args: unknown[], batch: number): void {
    if (batch === 0) this.runSingle(slot, task, args);
    else this.runBatch(slot, task, args as unknown[][]);
  }

  private runSingle(slot: number, task: TaskFunction, args: unknown[]): void {
    let result: unknown;
    try {
      result = task(...args);
    } catch (error) {
      this.finish(slot, SlotState.FAILED, error);
      return;
    }
    if (!isThenable(result)) {
      this.finish(slot, SlotState.DONE, result);
      return;
    }
    if (this.words[this.slots.word(slot, SlotField.FLAGS)] & SlotFlag.SYNC_ONLY) {
      result.then(undefined, () => {}); // nobody can wait for it: keep its failure from going unhandled
      this.finish(slot, SlotState.FAILED, this.promiseNotAllowed(slot));
      return;
    }
    this.settleWhenDone(slot, result);
  }

  /**
   * Runs the calls of a batch slot in order. The first failure ends the batch, unless the slot
   * asks for every call to run (SETTLE_EACH): then failures are collected next to the results.
   */
  private runBatch(slot: number, task: TaskFunction, calls: unknown[][]): void {
    const flags = this.words[this.slots.word(slot, SlotField.FLAGS)];
    const settleEach = (flags & SlotFlag.SETTLE_EACH) !== 0;
    const results = new Array<unknown>(calls.length);
    const failures: [number, unknown][] = [];
    for (let i = 0; i < calls.length; i++) {
      let result: unknown;
      try {
        result = task(...calls[i]);
      } catch (error) {
        if (!settleEach) {
          this.finish(slot, SlotState.FAILED, [i, error]);
          return;
        }
        failures.push([i, error]);
        continue;
      }
      if (isThenable(result)) {
        const rest = this.continueBatchAsync(task, calls, results, failures, settleEach, i, result);
        this.settleWhenDone(
          slot,
          rest.then(() => (settleEach ? settledOutcome(flags, results, failures) : results)),
        );
        return;
      }
      results[i] = result;
    }
    this.finish(slot, SlotState.DONE, settleEach ? settledOutcome(flags, results, failures) : results);
  }

  /** The rest of a batch once one of its calls returned a promise: awaited one at a time. */
  private async continueBatchAsync(
    task: TaskFunction,
    calls: unknown[][],
    results: unknown[],
    failures: [number, unknown][],
    settleEach: boolean,
    first: number,
    pending: PromiseLike<unknown>,
  ): Promise<void> {
    for (let i = first; i < calls.length; i++) {
      try {
        results[i] = await (i === first ? pending : task(...calls[i]));
      } catch (error) {
        if (!settleEach) throw [i, error];
        failures.push([i, error]);
      }
    }
  }

  /**
   * An asynchronous task (or batch chunk) in flight: finishes its slot when `outcome` settles, or
   * as soon as its caller gives up on it (a timeout, an abort), whichever comes first. A task
   * whose caller gave up no longer counts against asyncTasksPerWorker and its slot goes back to
   * the main thread; whatever it settles with later is ignored. A promise that never settles thus
   * cannot hold a worker for good.
   */
  private settleWhenDone(slot: number, outcome: PromiseLike<unknown>): void {
    let open = true;
    const ids = sharedBuffers.runningTaskIds;
    const settle = (state: number, value: unknown): void => {
      if (!open) return;
      open = false;
      const outer = sharedBuffers.beginTask(ids);
      try {
        this.finish(slot, state, value);
      } finally {
        sharedBuffers.endTask(outer);
      }
      this.parts.asyncTasks.settled();
    };
    this.parts.asyncTasks.started();
    // A batch chunk's failure names the call: none in particular here.
    const batch = this.words[this.slots.word(slot, SlotField.BATCH)] !== 0;
    this.parts.cancellation.watch(slot, () => settle(SlotState.FAILED, batch ? [-1, abortedError()] : abortedError()));
    outcome.then(
      (value) => settle(SlotState.DONE, value),
      (error: unknown) => settle(SlotState.FAILED, error),
    );
  }

  private promiseNotAllowed(slot: number): TypeError {
    const name = this.parts.tasks.name(this.words[this.slots.word(slot, SlotField.TASK)]);
    return new TypeError(
      `task "${name}" returned a promise, but it was started by join, scope or broadcast inside a task, ` +
        'which wait for it synchronously: tasks started that way must be synchronous',
    );
  }

  /** Stores the outcome and tells whoever waits for it (see the file comment). */
  finish(slot: number, state: number, outcome: unknown): void {
    const words = this.words;
    const slots = this.slots;
    const { index, layout } = this.parts;
    this.recordTimes(slot);
    this.parts.cancellation.finished(slot);
    this.parts.counters.increment(WorkerCounter.TASKS_RUN);
    const scope = words[slots.word(slot, SlotField.SCOPE)];
    const owner = nestedOwner(layout, slot);
    if (scope >= 0) {
      if (state === SlotState.FAILED) this.parts.scopes.recordError(scope, outcome, words[slots.word(slot, SlotField.TASK)]);
      // COUNTING tells recovery, should this worker die now, that the task ran to its end.
      this.setState(slot, SlotState.COUNTING);
      this.parts.scopes.finishPart(scope, slot);
      if (owner < 0) this.parts.completions.publish(slot);
      return;
    }
    // A batch's results are an array of similar values: the RECORDS encoding decodes them fastest.
    const batch = words[slots.word(slot, SlotField.BATCH)] !== 0;
    // Whoever waits for the outcome reads it once: buffers passed in it go to that thread alone.
    const reader = owner < 0 ? Destination.MAIN_THREAD : owner;
    sharedBuffers.passed.destination = reader;
    try {
      this.storeOutcome(slot, state, outcome, batch, reader);
    } catch (encodeError) {
      if (!this.storeSalvaged(slot, state, outcome, reader)) {
        // A plain error of strings: no buffer in it, whatever the destination says.
        this.storeUnencodable(slot, state, outcome, encodeError);
        state = SlotState.FAILED;
      }
    } finally {
      sharedBuffers.passed.destination = Destination.NOWHERE;
    }
    this.setState(slot, state);
    if (owner < 0) this.parts.completions.publish(slot);
    else if (owner !== index) this.parts.sleep.wake(owner);
  }

  private storeOutcome(slot: number, state: number, outcome: unknown, batch: boolean, reader: number): void {
    this.codec.store(slot, this.codec.encodeValue(outcome, state === SlotState.DONE ? 'result' : 'error', batch));
    // Posted before the slot is published, so the reader finds them when it decodes it.
    sharedBuffers.passed.send(reader);
  }

  /**
   * A settled batch (SETTLE_EACH) whose results could not be encoded as a whole: each result that
   * cannot cross threads becomes its own call's failure (the encoding error, naming where), and
   * each failure that cannot is reduced until it can (failure-report.ts), so that only the calls concerned fail, as
   * they would have on their own. Returns whether that outcome was stored. Trial encodes leave
   * nothing behind: each encode starts afresh (shared buffers included).
   */
  private storeSalvaged(slot: number, state: number, outcome: unknown, reader: number): boolean {
    if (state !== SlotState.DONE || (this.words[this.slots.word(slot, SlotField.FLAGS)] & SlotFlag.SETTLE_EACH) === 0) return false;
    const [results, failures] = outcome as SettledOutcome;
    const salvaged: [number, unknown][] = failures.map(([index, error]) => [index, crossableError(this.codec, error)]);
    // Packed values are bytes, which cross: only the failures can be what did not.
    let kept = results;
    if (Array.isArray(results)) {
      const failed = new Set(failures.map(([index]) => index));
      kept = results.slice();
      for (let i = 0; i < results.length; i++) {
        if (failed.has(i)) continue;
        const error = this.encodingError(results[i], 'result');
        if (error === undefined) continue;
        kept[i] = undefined;
        salvaged.push([i, crossableError(this.codec, error)]);
      }
    }
    try {
      this.storeOutcome(slot, state, [kept, salvaged], true, reader);
      return true;
    } catch {
      return false;
    }
  }

  /** Why `value` cannot be encoded, or undefined if it can. */
  private encodingError(value: unknown, root: string): unknown {
    try {
      this.codec.encodeValue(value, root);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  private setState(slot: number, state: number): void {
    finish(this.words, this.slots.word(slot, SlotField.STATE), this.parts.index, state);
  }

  /**
   * The outcome could not be encoded. A result that cannot cross threads fails the task with the
   * encoding error; an error that cannot (it holds a function, say, or is over maxPayloadBytes) is
   * reduced until it fits (see failure-report.ts).
   */
  private storeUnencodable(slot: number, state: number, outcome: unknown, encodeError: unknown): void {
    const batch = this.words[this.slots.word(slot, SlotField.BATCH)] !== 0;
    let index = -1;
    let failure = encodeError;
    if (state === SlotState.FAILED) {
      if (batch) [index, failure] = outcome as [number, unknown];
      else failure = outcome;
    }
    storeFailure(this.codec, slot, failure, batch ? (error) => [index, error] : (error) => error);
  }

  /**
   * Stamps the slot with its finishing time (the main thread sizes its completion polling from it)
   * and folds the task's duration, any await included, into this worker's running average, which
   * producers use to decide whether a wake is worth it.
   */
  private recordTimes(slot: number): void {
    const finished = sharedNow();
    this.f64[this.slots.timeIndex(slot, SlotTime.FINISHED)] = finished;
    this.parts.sleep.taskFinished(this.parts.index, (finished - this.f64[this.slots.timeIndex(slot, SlotTime.STARTED)]) * 1e6);
  }
}

/** A settled chunk's result: every call's value (or their packed list), and `[index, error]` per failed call. */
type SettledOutcome = [unknown[] | Uint8Array, [number, unknown][]];

/**
 * A settled chunk's result, its values packed when its caller forwards them (PACK_VALUES) and
 * JSON's types cover them. A failed call's value is null then, and so is `undefined`, as in a JSON
 * array: a task that returns nothing has null as its value.
 */
function settledOutcome(flags: number, results: unknown[], failures: [number, unknown][]): SettledOutcome {
  if ((flags & SlotFlag.PACK_VALUES) === 0) return [results, failures];
  for (let i = 0; i < results.length; i++) if (results[i] === undefined) results[i] = null;
  return [packJsonValues(results) ?? results, failures];
}
