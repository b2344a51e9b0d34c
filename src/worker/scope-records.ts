/**
 * Scope records: a slot (in the region of the thread that opened the scope) whose COUNT word counts
 * the unfinished parts of a scope — its body and every task spawned into it, transitively — and
 * whose ERROR word and payload keep the first error.
 *
 * Protocol (ARCHITECTURE.md, "Scopes"):
 * - a spawn adds 1 to COUNT before its task is queued; the body holds 1 until it returns;
 * - a part that failed claims ERROR with one compare-exchange (0 → WRITING), stores
 *   `[task id, worker index, error]` in the record's payload, then stores WRITTEN;
 * - every part then subtracts 1 from COUNT, as its very last access to the record. Whoever brings
 *   it to 0 completes the scope: it wakes the worker that opened it (which waits on COUNT), or, for
 *   a scope opened by the main thread, publishes the record like a finished task.
 * Since every part writes its error before its subtraction, the thread that sees COUNT reach 0 sees
 * ERROR as 0 or WRITTEN, never WRITING.
 */
import type { PayloadCodec } from '../codec/payload.js';
import { type Layout, nestedOwner } from '../shm/layout.js';
import { ERROR_WRITING, ERROR_WRITTEN, SlotField, SlotState, type SlotTable, withState } from '../shm/slot.js';
import { plainError } from './outcomes.js';

/** ERROR value of a worker scope whose own body threw first (the error stays with the body). */
export const ERROR_IN_BODY = 3;

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
  ) {}

  /** Prepares `record` for a scope opened now: its body is the first unfinished part. */
  open(record: number): void {
    const words = this.slots.words;
    words[this.slots.word(record, SlotField.COUNT)] = 1;
    words[this.slots.word(record, SlotField.ERROR)] = 0;
    const state = this.slots.word(record, SlotField.STATE);
    Atomics.store(words, state, withState(Atomics.load(words, state), this.self, SlotState.RECORD));
  }

  /** One more part (a spawn) before its task is queued. */
  addPart(record: number): void {
    Atomics.add(this.slots.words, this.slots.word(record, SlotField.COUNT), 1);
  }

  /** Records `error` as the scope's first error if none was; `task` is the failing task's id. */
  recordError(record: number, error: unknown, task: number): void {
    const words = this.slots.words;
    const errorWord = this.slots.word(record, SlotField.ERROR);
    if (Atomics.compareExchange(words, errorWord, 0, ERROR_WRITING) !== 0) return;
    try {
      this.codec.store(record, this.codec.encodeValue([task, this.self, error], 'error'));
    } catch {
      this.codec.store(record, this.codec.encodeValue([task, this.self, plainError(error)], 'error'));
    }
    Atomics.store(words, errorWord, ERROR_WRITTEN);
  }

  /** Claims the first error for the body of a worker scope; returns whether it was first. */
  claimForBody(record: number): boolean {
    return Atomics.compareExchange(this.slots.words, this.slots.word(record, SlotField.ERROR), 0, ERROR_IN_BODY) === 0;
  }

  /** One part finished. Its last access to the record: the record may be freed right after. */
  finishPart(record: number): void {
    const words = this.slots.words;
    if (Atomics.sub(words, this.slots.word(record, SlotField.COUNT), 1) !== 1) return;
    const owner = nestedOwner(this.layout, record);
    if (owner >= 0) {
      this.wake(owner);
      return;
    }
    // A scope of the main thread: the record completes like a task, failed if an error was kept.
    const failed = Atomics.load(words, this.slots.word(record, SlotField.ERROR)) === ERROR_WRITTEN;
    if (!failed) this.codec.store(record, this.codec.encodeValue(undefined, 'result'));
    const state = this.slots.word(record, SlotField.STATE);
    Atomics.store(words, state, withState(Atomics.load(words, state), this.self, failed ? SlotState.FAILED : SlotState.DONE));
    this.publishToMain(record);
  }

  /** Whether every part of the scope finished. */
  isComplete(record: number): boolean {
    return Atomics.load(this.slots.words, this.slots.word(record, SlotField.COUNT)) === 0;
  }

  errorState(record: number): number {
    return Atomics.load(this.slots.words, this.slots.word(record, SlotField.ERROR));
  }
}
