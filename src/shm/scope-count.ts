/**
 * The COUNT word of a scope record: how many parts of the scope (its body and every task spawned
 * into it) have not finished, and who is counting one out right now.
 *
 *   bits 0..10   the finisher between the two steps of a count-out: its id + 1 (a worker's index
 *                + 1, or MAIN_FINISHER), 0 when nobody is
 *   bits 11..30  unfinished parts
 *
 * A worker changes the count in two steps. The first is one compare-exchange that adds a part (a
 * spawn) or subtracts one (a count-out) and writes the worker's mark, only while no other mark is
 * there; then it records what it did — the spawned task's slot becomes QUEUED, a finished task's
 * slot goes from COUNTING to DONE, a body sets BODY_COUNTED, a main-thread record is completed —
 * and the second step removes the mark. A worker that dies between any two of its steps leaves
 * something recovery can read: without its mark on the record, its COUNTING slot was not
 * subtracted yet; with it, the change was made, and what was to follow is finished by recovery. A
 * worker names the part it changes in its CHANGING word before it marks the count, so recovery
 * knows which: a task being added (its slot FREE or QUEUED), a task counting out (COUNTING or
 * DONE), or the body. A shared counter and a marker in two separate words could not tell these
 * apart.
 */
import type { PayloadCodec } from '../codec/payload.js';
import { ThreadPoolError } from '../errors.js';
import { ERROR_WRITING, ERROR_WRITTEN, SlotField, type SlotTable } from './slot.js';
import { completeRecord } from './slot-protocol.js';

const FINISHER_BITS = 11;
/** One part, in COUNT word units. */
export const ONE_PART = 1 << FINISHER_BITS;
const FINISHER_MASK = ONE_PART - 1;
/** The main thread's mark. Workers mark with their index + 1, always below it. */
export const MAIN_FINISHER = FINISHER_MASK;
/** A worker's CHANGING word while it counts out the body of its own scope. */
export const BODY_PART = -2;
/** A worker's CHANGING word between changes. */
export const NO_PART = -1;
/** Spins on a foreign mark before a worker starts pausing between looks. */
const SPINS_BEFORE_PAUSE = 1000;

/** The mark a worker writes while it counts a part out. */
export function workerFinisher(index: number): number {
  return index + 1;
}

export function partsLeft(countWord: number): number {
  return countWord >>> FINISHER_BITS;
}

/** The mark in a COUNT word: 0, a worker's index + 1, or MAIN_FINISHER. */
export function finisherOf(countWord: number): number {
  return countWord & FINISHER_MASK;
}

/** A COUNT word for a scope opened now: one part, its body. Before the record is published. */
export function openCount(words: Int32Array, index: number): void {
  Atomics.store(words, index, ONE_PART);
}

/**
 * One more part (a spawn from the main thread), before its task is queued: an add without a mark,
 * since the main thread cannot die half-way. A worker's spawn marks (beginChange).
 */
export function addPart(words: Int32Array, index: number): void {
  Atomics.add(words, index, ONE_PART);
}

/**
 * First step of a marked change: adds `parts` (+1 for a spawn, -1 for a count-out) and marks the
 * word with `finisher`. Returns the parts left, or -1 without changing anything while another
 * finisher's mark is there.
 */
export function tryBeginChange(words: Int32Array, index: number, parts: number, finisher: number): number {
  const word = Atomics.load(words, index);
  if (finisherOf(word) !== 0) return -1;
  const next = (word + parts * ONE_PART + finisher) | 0;
  return Atomics.compareExchange(words, index, word, next) === word ? partsLeft(next) : -1;
}

/**
 * The first step for a worker, which may wait: a live finisher holds its mark for a few
 * instructions, a dead one until the main thread recovers from its death.
 */
export function beginChange(words: Int32Array, index: number, parts: number, finisher: number): number {
  for (let spins = 0; ; spins++) {
    const left = tryBeginChange(words, index, parts, finisher);
    if (left >= 0) return left;
    if (spins >= SPINS_BEFORE_PAUSE) Atomics.wait(words, index, Atomics.load(words, index), 0.1);
  }
}

/** Second step: removes the finisher's mark. */
export function endChange(words: Int32Array, index: number, finisher: number): void {
  Atomics.sub(words, index, finisher);
}

/** Whether every part finished and nobody is still counting one out. */
export function scopeComplete(words: Int32Array, index: number): boolean {
  return Atomics.load(words, index) === 0;
}

/** The error a scope fails with when the worker recording its first error died half-way. */
export function lostScopeError(): ThreadPoolError {
  return new ThreadPoolError('a task of the scope failed, but its worker died while recording the error');
}

/**
 * Completes a main-thread scope record whose last part was just counted out (by `finisher`, who
 * still holds its mark): stores its outcome — undefined, or the first error (an error whose writer
 * died half-way is replaced by `lostScopeError`) — then its final state, owned by `owner` (the
 * worker index, or 0 for the main thread). The record is published to the main thread afterwards.
 */
export function completeMainRecord(slots: SlotTable, codec: PayloadCodec, record: number, owner: number): void {
  const words = slots.words;
  const error = Atomics.load(words, slots.word(record, SlotField.ERROR));
  if (error === ERROR_WRITING) codec.store(record, codec.encodeValue([-1, -1, lostScopeError()], 'error'));
  else if (error !== ERROR_WRITTEN) codec.store(record, codec.encodeValue(undefined, 'result'));
  const failed = error === ERROR_WRITING || error === ERROR_WRITTEN;
  completeRecord(words, slots.word(record, SlotField.STATE), owner, failed);
}
