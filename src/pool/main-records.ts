/**
 * The main thread's side of scope records (the COUNT protocol is in shm/scope-count.ts, the
 * workers' side in worker/scope-records.ts): the records of scopes the main thread opens, and the
 * parts it counts out of any record — its own scope bodies, spawned calls that will never run, and
 * what a dead worker left unfinished (crash-recovery.ts).
 *
 * The main thread never waits for a worker's mark: while one is on the record it tries again on
 * the next turn of the event loop, in which the death of the worker holding it, if it died, is
 * recovered.
 */
import type { PayloadCodec } from '../codec/payload.js';
import { type Layout, nestedOwner } from '../shm/layout.js';
import { MAIN_FINISHER, addPart, completeMainRecord, endChange, openCount, tryBeginChange } from '../shm/scope-count.js';
import { ERROR_IN_BODY, ERROR_WRITING, ERROR_WRITTEN, SlotField, SlotFlag, SlotState, type SlotTable, stateOf } from '../shm/slot.js';
import { openRecord } from '../shm/slot-protocol.js';

export class MainRecords {
  private readonly words: Int32Array;

  constructor(
    private readonly slots: SlotTable,
    private readonly layout: Layout,
    private readonly codec: PayloadCodec,
    /** Whether a main-thread slot still belongs to the pool's bookkeeping (false once terminated). */
    private readonly inUse: (slot: number) => boolean,
    /** A main-thread record completed: settle its caller and free it. */
    private readonly completed: (record: number) => void,
    /** Wakes worker `index` if it is parked. */
    private readonly wake: (index: number) => void,
  ) {
    this.words = slots.words;
  }

  /**
   * Makes `record` the record of a scope opened now (`fifo`: by scopeFifo), whose body is its first
   * unfinished part.
   */
  open(record: number, fifo: boolean): void {
    const { words, slots } = this;
    openCount(words, slots.word(record, SlotField.COUNT));
    words[slots.word(record, SlotField.FLAGS)] = fifo ? SlotFlag.SCOPE_FIFO : 0;
    words[slots.word(record, SlotField.ERROR)] = 0;
    openRecord(words, slots.word(record, SlotField.STATE), 0);
  }

  /** One more part (a spawn from the main thread), counted before its task is queued. */
  addPart(record: number): void {
    addPart(this.words, this.slots.word(record, SlotField.COUNT));
  }

  /** Claims the scope's first error for its body; returns whether the body was first. */
  claimForBody(record: number): boolean {
    return Atomics.compareExchange(this.words, this.slots.word(record, SlotField.ERROR), 0, ERROR_IN_BODY) === 0;
  }

  /** Offers `error` as the scope's first error; `task` is the id of the task that failed. */
  recordError(record: number, error: unknown, task: number): void {
    const errorWord = this.slots.word(record, SlotField.ERROR);
    if (Atomics.compareExchange(this.words, errorWord, 0, ERROR_WRITING) !== 0) return;
    this.codec.store(record, this.codec.encodeValue([task, -1, error], 'error'));
    Atomics.store(this.words, errorWord, ERROR_WRITTEN);
  }

  /**
   * Counts one part out of a record. `counted` runs between the two steps of the change, while
   * the main thread's mark is on the record (it marks the slot of the part as counted out).
   */
  countOut(record: number, counted?: () => void): void {
    if (!this.stillOpen(record)) return;
    const left = tryBeginChange(this.words, this.slots.word(record, SlotField.COUNT), -1, MAIN_FINISHER);
    if (left < 0) {
      setImmediate(() => this.countOut(record, counted));
      return;
    }
    counted?.();
    this.afterChange(record, left, MAIN_FINISHER);
  }

  /**
   * The rest of a count-out once its first step is made (by the main thread, or by a worker that
   * died holding its mark `finisher`): completes the scope if no part is left, and removes the mark.
   */
  afterChange(record: number, left: number, finisher: number): void {
    const owner = nestedOwner(this.layout, record);
    const mainRecord = owner < 0;
    if (left === 0 && mainRecord && stateOf(Atomics.load(this.words, this.slots.word(record, SlotField.STATE))) === SlotState.RECORD) {
      completeMainRecord(this.slots, this.codec, record, 0);
    }
    endChange(this.words, this.slots.word(record, SlotField.COUNT), finisher);
    if (left !== 0) return;
    if (mainRecord) this.completed(record);
    else this.wake(owner);
  }

  /** A worker's record is open while in state RECORD; a main-thread one while the pool holds it. */
  private stillOpen(record: number): boolean {
    if (nestedOwner(this.layout, record) < 0) return this.inUse(record);
    return stateOf(Atomics.load(this.words, this.slots.word(record, SlotField.STATE))) === SlotState.RECORD;
  }
}
