/**
 * Terminals that can stop early (Rayon's `full()` consumers): `any`, `all`, the finds and the
 * positions, and `tryForEach` and `tryReduce`, whose answer is known once a task throws. Pieces not
 * started then return at once and running ones stop within CHECK_EVERY items, on whichever worker
 * they run.
 *
 * What is known travels through a cell of two words beside the pipeline's description in shared
 * memory (payload.ts `storeBlock`), written by the thread that stores the description before any
 * piece can read it:
 *   word 0  FOUND: 0, then 1 once any piece found what `any`, `all` (a counterexample), `findAny`
 *           and `positionAny` look for, or a task of `tryForEach` or `tryReduce` threw; set with a
 *           plain atomic store, never cleared.
 *   word 1  BEST: the unit index of the leftmost match found so far for `findFirst` and
 *           `positionFirst` (lowered by compare-exchange), the rightmost for `findLast` (raised),
 *           or NONE_FIRST / NONE_LAST. Indices past the largest int32 are not recorded: they only
 *           prune less.
 * A piece only ever reads the cell to skip work that cannot change the answer; which pieces it
 * skips never changes the answer, only how much is visited.
 */
import { PREDICATE_TERMINALS, type Pipeline, Terminal } from './pipeline.js';

/** Words of a short-circuit cell. */
export const CELL_WORDS = 2;
const FOUND = 0;
const BEST = 1;
const NONE_FIRST = 0x7fffffff;
const NONE_LAST = -1;

/** How many units a piece's loop runs between two looks at the cell. */
export const CHECK_EVERY = 1024;

/** A pipeline's cell: `words[index]` and `words[index + 1]`. */
export interface Cell {
  words: Int32Array;
  index: number;
}

const SHORT_CIRCUITS: ReadonlySet<number> = new Set([...PREDICATE_TERMINALS, Terminal.TRY_FOR_EACH, Terminal.TRY_REDUCE]);

/** Whether `terminal` stops early, and so needs a cell. */
export function shortCircuits(terminal: number): boolean {
  return SHORT_CIRCUITS.has(terminal);
}

/** Writes a fresh cell for `terminal`; the creator calls it before the description is shared. */
export function initCell({ words, index }: Cell, terminal: number): void {
  Atomics.store(words, index + FOUND, 0);
  Atomics.store(words, index + BEST, terminal === Terminal.FIND_LAST ? NONE_LAST : NONE_FIRST);
}

/** Whether units [lo, hi) can no longer change the answer. */
export function settledFor({ words, index }: Cell, terminal: number, lo: number, hi: number): boolean {
  switch (terminal) {
    case Terminal.FIND_FIRST:
    case Terminal.POSITION_FIRST:
      return Atomics.load(words, index + BEST) < lo;
    case Terminal.FIND_LAST:
      return Atomics.load(words, index + BEST) >= hi;
    default:
      return Atomics.load(words, index + FOUND) !== 0;
  }
}

/** A piece found what `terminal` looks for at unit `unit`. */
export function recordMatch({ words, index }: Cell, terminal: number, unit: number): void {
  if (terminal === Terminal.FIND_FIRST || terminal === Terminal.POSITION_FIRST) {
    if (unit >= NONE_FIRST) return;
    for (let best = Atomics.load(words, index + BEST); unit < best; ) {
      const seen = Atomics.compareExchange(words, index + BEST, best, unit);
      if (seen === best) return;
      best = seen;
    }
  } else if (terminal === Terminal.FIND_LAST) {
    if (unit >= NONE_FIRST) return;
    for (let best = Atomics.load(words, index + BEST); unit > best; ) {
      const seen = Atomics.compareExchange(words, index + BEST, best, unit);
      if (seen === best) return;
      best = seen;
    }
  } else {
    Atomics.store(words, index + FOUND, 1);
  }
}

/**
 * What a piece that contributes nothing returns: `any` false, `all` true, a find `[]` (a match is
 * `[item]`, so that an item `undefined` stays a match), a position -1, `tryReduce` its identity
 * (another piece's error decides), `tryForEach` nothing.
 */
export function noMatch({ terminal, terminalArgument }: Pick<Pipeline, 'terminal' | 'terminalArgument'>): unknown {
  switch (terminal) {
    case Terminal.TRY_FOR_EACH:
      return undefined;
    case Terminal.TRY_REDUCE:
      return terminalArgument;
    case Terminal.ANY:
      return false;
    case Terminal.ALL:
      return true;
    case Terminal.POSITION_ANY:
    case Terminal.POSITION_FIRST:
      return -1;
    default:
      return [];
  }
}
