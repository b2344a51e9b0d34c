/**
 * Every change of a slot's state word, as a named operation, and the table of the changes there
 * are (docs/internals/slots.md explains each; slot.ts has the encoding). Nothing else in
 * TypeScript writes a state word; the native queue's claim (native-queue/src/slot_claim.h) makes
 * the compare-exchanges of `tryClaim` and `tryTakeTombstone`, from the states
 * `claimEncodingWords` gives it, which the tests check against the table.
 *
 * Stores publish what was written before them (the header, the payload, the outcome) to whoever
 * later reads the new state; compare-exchanges decide races (a claim against a withdrawal, two
 * takers of one queue entry). With VISCOSE_CHECK_SLOTS=1 in the environment (the test suites set
 * it), every operation checks the state it leaves against SLOT_TRANSITIONS and throws on a change
 * the table does not have.
 */
import { SlotState, generationOf, makeStateWord, stateOf, withState } from './slot.js';

const { FREE, QUEUED, RUNNING, DONE, FAILED, CANCELLED, RECORD, RETURNED, COUNTING } = SlotState;

/**
 * What each state may become. FREE → FREE, QUEUED → FREE and RUNNING → FREE are a worker's own
 * region only: a slot allocated and given back unused, a broadcast part queued but never posted,
 * a join's second half taken back and run inline. RUNNING → FREE is also the main thread freeing
 * the slot of a call whose worker died.
 */
export const SLOT_TRANSITIONS: Readonly<Record<number, readonly number[]>> = {
  [FREE]: [QUEUED, RECORD, FREE],
  [QUEUED]: [RUNNING, CANCELLED, FREE],
  [RUNNING]: [DONE, FAILED, COUNTING, FREE],
  [COUNTING]: [DONE, FAILED],
  [CANCELLED]: [RETURNED],
  [RETURNED]: [FREE],
  [RECORD]: [DONE, FAILED, FREE],
  [DONE]: [FREE],
  [FAILED]: [FREE],
};

const STATE_NAMES = Object.fromEntries(Object.entries(SlotState).map(([name, value]) => [value, name])) as Record<number, string>;

const CHECKED = globalThis.process?.env?.VISCOSE_CHECK_SLOTS === '1';

/** Throws if `from → to` is not in the table (checked builds only call it). */
export function checkTransition(from: number, to: number): void {
  if (!SLOT_TRANSITIONS[from]?.includes(to)) {
    throw new Error(`slot transition ${STATE_NAMES[from] ?? from} → ${STATE_NAMES[to] ?? to} is not in the protocol's table`);
  }
}

function checked(words: Int32Array, stateIndex: number, to: number): void {
  if (CHECKED) checkTransition(stateOf(Atomics.load(words, stateIndex)), to);
}

/**
 * FREE → QUEUED, after the task's header and payload were written: this store publishes them to
 * the worker that claims the slot. Returns the new word (its generation makes the queue entry).
 */
export function publishQueued(words: Int32Array, stateIndex: number): number {
  checked(words, stateIndex, QUEUED);
  const queued = makeStateWord(generationOf(Atomics.load(words, stateIndex)), 0, QUEUED);
  Atomics.store(words, stateIndex, queued);
  return queued;
}

/** FREE → RECORD: the slot holds a scope's record, owned by `owner`'s thread, not a task. */
export function openRecord(words: Int32Array, stateIndex: number, owner: number): void {
  checked(words, stateIndex, RECORD);
  Atomics.store(words, stateIndex, withState(Atomics.load(words, stateIndex), owner, RECORD));
}

/**
 * QUEUED → RUNNING for `worker`, if the word is still `current` (whose state the caller read as
 * QUEUED); returns the word seen.
 */
export function tryClaim(words: Int32Array, stateIndex: number, current: number, worker: number): number {
  if (CHECKED) checkTransition(stateOf(current), RUNNING);
  return Atomics.compareExchange(words, stateIndex, current, withState(current, worker, RUNNING));
}

/** CANCELLED → RETURNED for `worker`, if the word is still `current`; returns the word seen. */
export function tryTakeTombstone(words: Int32Array, stateIndex: number, current: number, worker: number): number {
  if (CHECKED) checkTransition(stateOf(current), RETURNED);
  return Atomics.compareExchange(words, stateIndex, current, withState(current, worker, RETURNED));
}

/** QUEUED → CANCELLED by the main thread, if the word is still `current`; returns the word seen. */
export function tryWithdraw(words: Int32Array, stateIndex: number, current: number): number {
  if (CHECKED) checkTransition(stateOf(current), CANCELLED);
  return Atomics.compareExchange(words, stateIndex, current, withState(current, 0, CANCELLED));
}

/**
 * RUNNING → DONE or FAILED (its outcome stored first: this store publishes it), or COUNTING (a
 * scope's task counting itself out of its record) — by `owner`, the thread that ran it or, for a
 * worker that died running it, crash recovery in its name.
 */
export function finish(words: Int32Array, stateIndex: number, owner: number, state: number): void {
  checked(words, stateIndex, state);
  Atomics.store(words, stateIndex, withState(Atomics.load(words, stateIndex), owner, state));
}

/** COUNTING → DONE: the scope's task is counted out of its record. */
export function countedOut(words: Int32Array, stateIndex: number, owner: number): void {
  checked(words, stateIndex, DONE);
  Atomics.store(words, stateIndex, withState(Atomics.load(words, stateIndex), owner, DONE));
}

/** RECORD → DONE or FAILED: a main-thread scope is over, its outcome stored first. */
export function completeRecord(words: Int32Array, stateIndex: number, owner: number, failed: boolean): void {
  const state = failed ? FAILED : DONE;
  checked(words, stateIndex, state);
  Atomics.store(words, stateIndex, withState(Atomics.load(words, stateIndex), owner, state));
}

/** → FREE with the next generation: queue entries naming the old one are stale from now on. */
export function free(words: Int32Array, stateIndex: number): void {
  checked(words, stateIndex, FREE);
  Atomics.store(words, stateIndex, makeStateWord(generationOf(Atomics.load(words, stateIndex)) + 1, 0, FREE));
}
