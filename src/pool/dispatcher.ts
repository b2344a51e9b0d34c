/**
 * The main thread's side of the data plane: it owns the slot table's free list (the backpressure
 * semaphore), stores encoded calls in slots, pushes them to the injector, wakes sleeping workers,
 * and settles callers from the completion rings.
 *
 * Slot protocol, main-thread side (the worker side is in worker/runtime.ts):
 *   FREE --(main: header + payload, then store QUEUED, then push the entry)--> QUEUED
 *   QUEUED --(worker: compare-exchange, owner recorded)--> RUNNING
 *   RUNNING --(worker: payload, then store DONE/FAILED, then push to its completion ring)--> DONE
 *   DONE/FAILED --(main: decode, release the arena block, store FREE with generation + 1)--> FREE
 */
import type { EncodedPayload, PayloadCodec } from '../codec/payload.js';
import type { ChaseLevDeque } from '../queue/deque.js';
import type { CompletionRing } from '../queue/completion-ring.js';
import { SlotField, SlotState, type SlotTable, SlotTime, generationOf, makeStateWord, ownerOf, stateOf } from '../shm/slot.js';
import type { Sleep } from '../sync/sleep.js';
import { Fifo } from './fifo.js';

/** Whoever waits for the outcome of a slot: a single call, or one chunk of a batch. */
export interface PendingWork {
  /** The worker finished: `state` is DONE or FAILED, `outcome` the decoded result or error. */
  settle(state: number, outcome: unknown, worker: number): void;
  /** The task will not finish (pool terminated, worker crashed, payload could not be stored). */
  abandon(error: unknown): void;
}

/** A call accepted while every slot was taken. Its payload is a private copy. */
interface WaitingCall {
  task: number;
  batch: number;
  level: number;
  payload: EncodedPayload;
  work: PendingWork;
}

export const NORMAL_PRIORITY = 1;

export class Dispatcher {
  private readonly free: number[] = [];
  private readonly waiting = new Fifo<WaitingCall>();
  private readonly pending: (PendingWork | undefined)[];
  private readonly words: Int32Array;
  private inUse = 0;
  /** Completions consumed since the pool started. */
  completed = 0;
  /** Latest finishing time (shared clock) among the completions consumed. */
  lastFinishedAt = 0;
  private readonly f64: Float64Array;

  constructor(
    private readonly slots: SlotTable,
    private readonly codec: PayloadCodec,
    private readonly injectors: ChaseLevDeque[],
    private readonly rings: CompletionRing[],
    private readonly sleep: Sleep,
    /** Called whenever work was handed to the workers. */
    private readonly onSubmit: () => void,
  ) {
    this.words = slots.words;
    this.f64 = new Float64Array(slots.words.buffer as SharedArrayBuffer);
    this.pending = new Array<PendingWork | undefined>(slots.mainSlots);
    // Lowest slot on top: a lightly loaded pool keeps reusing the same few slots and cache lines.
    for (let slot = slots.mainSlots - 1; slot >= 0; slot--) this.free.push(slot);
  }

  /** Slots in use plus calls waiting for one. */
  get outstanding(): number {
    return this.inUse + this.waiting.length;
  }

  /**
   * Submits an encoded call. The payload is consumed now (stored in a slot) or copied to wait for
   * a slot, so the caller may encode the next call right away.
   */
  submit(task: number, batch: number, payload: EncodedPayload, work: PendingWork, level = NORMAL_PRIORITY): void {
    // Consume finished tasks first: a caller submitting a long burst in one synchronous loop
    // thus recycles slots as it goes, and the workers never run dry, nor park, while the event
    // loop is busy with the burst.
    this.drain();
    const slot = this.waiting.length === 0 ? this.free.pop() : undefined;
    if (slot === undefined) {
      this.waiting.push({ task, batch, level, payload: this.codec.detach(payload), work });
      return;
    }
    this.publish(slot, task, batch, payload, work, level);
  }

  private publish(slot: number, task: number, batch: number, payload: EncodedPayload, work: PendingWork, level: number): void {
    try {
      this.codec.store(slot, payload);
    } catch (error) {
      // The arena had no room for the payload: nothing was queued.
      this.free.push(slot);
      work.abandon(error);
      return;
    }
    const words = this.words;
    const slots = this.slots;
    words[slots.word(slot, SlotField.TASK)] = task;
    words[slots.word(slot, SlotField.BATCH)] = batch;
    words[slots.word(slot, SlotField.FLAGS)] = 0;
    words[slots.word(slot, SlotField.SCOPE)] = -1;
    const stateIndex = slots.word(slot, SlotField.STATE);
    const queued = makeStateWord(generationOf(Atomics.load(words, stateIndex)), 0, SlotState.QUEUED);
    // This store publishes the header and payload written above to whichever worker claims the slot.
    Atomics.store(words, stateIndex, queued);
    this.pending[slot] = work;
    this.inUse++;
    const injector = this.injectors[level];
    injector.push(slots.entryFor(slot, queued));
    this.sleep.newJobs(injector);
    this.onSubmit();
  }

  /** Consumes every completion the workers published; returns how many. */
  drain(): number {
    let consumed = 0;
    for (let i = 0; i < this.rings.length; i++) consumed += this.rings[i].drain(this.complete);
    return consumed;
  }

  private readonly complete = (slot: number): void => {
    this.completed++;
    const finished = this.f64[this.slots.timeIndex(slot, SlotTime.FINISHED)];
    if (finished > this.lastFinishedAt) this.lastFinishedAt = finished;
    const stateWord = Atomics.load(this.words, this.slots.word(slot, SlotField.STATE));
    const state = stateOf(stateWord);
    let outcome: unknown;
    let decodeError: unknown;
    try {
      outcome = this.codec.loadValue(slot);
    } catch (error) {
      decodeError = error;
    }
    this.codec.release(slot);
    const work = this.pending[slot]!;
    this.freeSlot(slot, stateWord);
    if (decodeError !== undefined) work.abandon(decodeError);
    else work.settle(state, outcome, ownerOf(stateWord));
  };

  /** Frees a slot (new generation) and hands it to the oldest waiting call, if any. */
  private freeSlot(slot: number, stateWord: number): void {
    this.pending[slot] = undefined;
    this.inUse--;
    Atomics.store(this.words, this.slots.word(slot, SlotField.STATE), makeStateWord(generationOf(stateWord) + 1, 0, SlotState.FREE));
    const next = this.waiting.shift();
    if (next === undefined) this.free.push(slot);
    else this.publish(slot, next.task, next.batch, next.payload, next.work, next.level);
  }

  /**
   * After worker `worker` exited: settles what it finished (published or not) and abandons with
   * `crash` what it was running. Returns how many calls were abandoned.
   */
  recoverFrom(worker: number, crash: unknown): number {
    this.rings[worker].drain(this.complete);
    let abandoned = 0;
    for (let slot = 0; slot < this.pending.length; slot++) {
      const work = this.pending[slot];
      if (work === undefined) continue;
      const stateWord = Atomics.load(this.words, this.slots.word(slot, SlotField.STATE));
      if (ownerOf(stateWord) !== worker) continue;
      const state = stateOf(stateWord);
      if (state === SlotState.DONE || state === SlotState.FAILED) {
        // Finished, but the worker died before (or while) publishing it.
        this.complete(slot);
      } else if (state === SlotState.RUNNING) {
        this.codec.release(slot);
        this.freeSlot(slot, stateWord);
        work.abandon(crash);
        abandoned++;
      }
    }
    return abandoned;
  }

  /** Abandons everything: calls waiting for a slot and tasks in slots. For terminate(). */
  abandonAll(error: unknown): void {
    for (const call of this.waiting.drain()) call.work.abandon(error);
    for (let slot = 0; slot < this.pending.length; slot++) {
      const work = this.pending[slot];
      if (work === undefined) continue;
      this.pending[slot] = undefined;
      this.inUse--;
      work.abandon(error);
    }
  }
}
