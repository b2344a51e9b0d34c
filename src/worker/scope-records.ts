/**
 * Scope records: a slot (in the region of the thread that opened the scope) whose COUNT word counts
 * the unfinished parts of a scope — its body and every task spawned into it, transitively — and
 * whose ERROR word and payload keep the first error.
 *
 * Protocol (docs/internals/scopes.md; the COUNT word in scope-count.ts):
 * - a spawn adds one part to COUNT before its task is queued; the body holds one until it returns;
 * - a part that failed claims ERROR with one compare-exchange (0 → WRITING), stores
 *   `[task id, worker index, error]` in the record's payload, then stores WRITTEN;
 * - every part then counts itself out: subtract and mark, record what it did (a spawned task's slot
 *   goes from COUNTING to DONE, a body sets BODY_COUNTED), unmark — its last access to the record.
 *   Whoever brings the parts to 0 completes the scope: it wakes the worker that opened it (which
 *   waits for COUNT to be 0), or, for a scope opened by the main thread, completes the record and
 *   publishes it like a finished task.
 * Since every part writes its error before its subtraction, the thread that sees the parts reach 0
 * sees ERROR as 0 or WRITTEN — or WRITING, if the writer died half-way (scope-count.ts).
 */
import type { PayloadCodec } from '../codec/payload.js';
import { Destination } from '../codec/passed-buffers.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { type Layout, WorkerBlock, nestedOwner, workerWord } from '../shm/layout.js';
import {
  BODY_PART,
  NO_PART,
  beginChange,
  completeMainRecord,
  endChange,
  lostScopeError,
  openCount,
  scopeComplete,
  workerFinisher,
} from '../shm/scope-count.js';
import { ERROR_IN_BODY, ERROR_WRITING, ERROR_WRITTEN, SlotField, SlotFlag, type SlotTable } from '../shm/slot.js';
import { storeFailure } from './failure-report.js';
import { countedOut, openRecord } from '../shm/slot-protocol.js';

export class ScopeRecords {
  constructor(
    private readonly slots: SlotTable,
    private readonly layout: Layout,
    private readonly codec: PayloadCodec,
    private readonly self: number,
    /** Wakes worker `index` if it is parked. */
    private readonly wake: (index: number) => void,
    /** Publishes a finished main-thread slot to this worker's completion ring. */
    private readonly publishToMain: (slot: number) => void,
  ) {
    this.changingWord = workerWord(layout, self, WorkerBlock.CHANGING);
  }

  /** This worker's CHANGING word: the part whose count it is changing (scope-count.ts). */
  private readonly changingWord: number;

  /** Prepares `record` for a scope opened now (`fifo`: by scopeFifo): its body is the first unfinished part. */
  open(record: number, fifo: boolean): void {
    const words = this.slots.words;
    openCount(words, this.slots.word(record, SlotField.COUNT));
    words[this.slots.word(record, SlotField.ERROR)] = 0;
    words[this.slots.word(record, SlotField.FLAGS)] = fifo ? SlotFlag.SCOPE_FIFO : 0;
    openRecord(words, this.slots.word(record, SlotField.STATE), this.self);
  }

  /**
   * Adds a spawned task to the scope and makes its slot QUEUED (`enqueue`, which returns its queue
   * entry) as one marked change, so that recovery can tell whether a worker that died meanwhile
   * had counted the spawn in. The caller pushes the entry afterwards.
   */
  addSpawn(record: number, slot: number, enqueue: () => number): number {
    this.startChange(record, slot, +1);
    const entry = enqueue();
    this.finishChange(record);
    return entry;
  }

  /** Whether `record` is a FIFO scope's (written before the record was opened, never changed while open). */
  isFifo(record: number): boolean {
    return (Atomics.load(this.slots.words, this.slots.word(record, SlotField.FLAGS)) & SlotFlag.SCOPE_FIFO) !== 0;
  }

  /** Whether a worker opened the scope of `record` (and waits for it synchronously), not the main thread. */
  openedByWorker(record: number): boolean {
    return nestedOwner(this.layout, record) >= 0;
  }

  /** Records `error` as the scope's first error if none was; `task` is the failing task's id. */
  recordError(record: number, error: unknown, task: number): void {
    const words = this.slots.words;
    const errorWord = this.slots.word(record, SlotField.ERROR);
    if (Atomics.compareExchange(words, errorWord, 0, ERROR_WRITING) !== 0) return;
    // Read once, by whoever waits for the scope.
    const owner = nestedOwner(this.layout, record);
    const reader = owner < 0 ? Destination.MAIN_THREAD : owner;
    const frame = (failure: unknown) => [task, this.self, failure];
    storeFailure(this.codec, record, error, frame, () => {
      sharedBuffers.passed.encodingFor(reader, () => this.codec.store(record, this.codec.encodeValue(frame(error), 'error')));
      sharedBuffers.passed.send(reader);
    });
    Atomics.store(words, errorWord, ERROR_WRITTEN);
  }

  /** Claims the first error for the body of a worker scope; returns whether it was first. */
  claimForBody(record: number): boolean {
    return Atomics.compareExchange(this.slots.words, this.slots.word(record, SlotField.ERROR), 0, ERROR_IN_BODY) === 0;
  }

  /**
   * One part finished: a spawned task whose slot this worker moved to COUNTING, or (`part` -1) the
   * body. Its last access to the record: the record may be freed right after.
   */
  finishPart(record: number, part: number): void {
    const { slots, self } = this;
    const words = slots.words;
    const owner = nestedOwner(this.layout, record);
    const left = this.startChange(record, part >= 0 ? part : BODY_PART, -1);
    if (part >= 0) {
      countedOut(words, slots.word(part, SlotField.STATE), self);
    } else {
      Atomics.or(words, slots.word(record, SlotField.FLAGS), SlotFlag.BODY_COUNTED);
    }
    if (left === 0 && owner < 0) completeMainRecord(slots, this.codec, record, self);
    this.finishChange(record);
    if (left !== 0) return;
    if (owner >= 0) this.wake(owner);
    else this.publishToMain(record);
  }

  /**
   * Starts a marked change of the record's count by `parts` for `part` (a slot, or BODY_PART),
   * named in this worker's CHANGING word first. Returns the parts left. What the change records is
   * done before finishChange removes the mark.
   */
  private startChange(record: number, part: number, parts: number): number {
    Atomics.store(this.slots.words, this.changingWord, part);
    return beginChange(this.slots.words, this.slots.word(record, SlotField.COUNT), parts, workerFinisher(this.self));
  }

  private finishChange(record: number): void {
    endChange(this.slots.words, this.slots.word(record, SlotField.COUNT), workerFinisher(this.self));
    Atomics.store(this.slots.words, this.changingWord, NO_PART);
  }

  /** Whether every part of the scope finished. */
  isComplete(record: number): boolean {
    return scopeComplete(this.slots.words, this.slots.word(record, SlotField.COUNT));
  }

  /**
   * The first error of a complete scope this worker opened, if it failed: its body's (`bodyError`,
   * when the body claimed the first error), the one a part stored in the record (released here),
   * or, if that part died while writing it, one that says so.
   */
  firstError(record: number, bodyError: unknown): { error: unknown } | undefined {
    const state = Atomics.load(this.slots.words, this.slots.word(record, SlotField.ERROR));
    if (state === 0) return undefined;
    if (state === ERROR_WRITING) return { error: lostScopeError() };
    if (state !== ERROR_WRITTEN) return { error: bodyError };
    // [task id, worker index, error] of the first task that failed.
    const error = (this.codec.loadValue(record) as [number, number, unknown])[2];
    this.codec.release(record);
    return { error };
  }
}
