import type { EntryClaim } from './claim.js';

/**
 * The COUNT of a mailbox with no worker behind it: an index an elastic pool has not started a
 * worker at, or whose worker retired. Far below any count, so that a count read below 0 means
 * "absent" whatever was added.
 */
export const ABSENT_COUNT = -(1 << 30);

/** What became of a post: in a cell, refused as every cell was taken, or no worker is there. */
export type PostOutcome = 'posted' | 'full' | 'absent';

/**
 * A worker's mailbox: jobs addressed to that worker alone (one part of a broadcast). Any thread may
 * post, only the owner takes.
 *
 * Each cell holds 0 or `entry + 1` and changes only by compare-exchange: a poster claims an empty
 * cell, the owner empties a full one. Posting is one exchange on one word, so a poster that dies
 * half-way leaves either nothing or a complete entry — never a reserved hole that would block the
 * owner, which a FIFO ring with a shared tail would risk. The COUNT word (incremented before a
 * cell is filled, decremented after it is emptied) lets the owner skip the scan when it is zero; a
 * count too high only costs a scan (and keeps the worker from retiring). Incrementing first is
 * what makes a retirement safe: the owner retires by exchanging a COUNT of 0 for ABSENT_COUNT, so
 * either a poster's increment comes first and the exchange fails, or the poster sees the mark in
 * the value its increment returns and posts nothing. Order among mailbox entries is not kept: a
 * broadcast needs none.
 */
export class Mailbox {
  private cursor = 0;

  constructor(
    private readonly words: Int32Array,
    private readonly countWord: number,
    private readonly cellsWord: number,
    readonly capacity: number,
  ) {}

  /** Any thread. Posts `entry` unless every cell is taken or no worker is at this index. */
  post(entry: number): PostOutcome {
    const words = this.words;
    if (Atomics.add(words, this.countWord, 1) < 0) {
      Atomics.sub(words, this.countWord, 1);
      return 'absent';
    }
    for (let k = 0; k < this.capacity; k++) {
      const cell = this.cellsWord + ((this.cursor + k) % this.capacity);
      if (Atomics.load(words, cell) === 0 && Atomics.compareExchange(words, cell, 0, entry + 1) === 0) {
        this.cursor = (this.cursor + k + 1) % this.capacity;
        return 'posted';
      }
    }
    Atomics.sub(words, this.countWord, 1);
    return 'full';
  }

  /**
   * Owner only, retiring: marks the mailbox absent if nothing is posted or being posted. Returns
   * whether it did; from then on every post returns 'absent'.
   */
  retire(): boolean {
    return Atomics.compareExchange(this.words, this.countWord, 0, ABSENT_COUNT) === 0;
  }

  /**
   * Owner only. Claims the task of a posted entry with `claim`, then empties its cell; returns the
   * claimed slot, or -1. Claiming first means an owner that dies in between leaves a claimed task
   * and a stale entry (skipped by its successor), never a posted task that is queued nowhere.
   */
  take(claim: EntryClaim): number {
    const words = this.words;
    if (Atomics.load(words, this.countWord) <= 0) return -1;
    for (let k = 0; k < this.capacity; k++) {
      const cell = this.cellsWord + k;
      const value = Atomics.load(words, cell);
      if (value === 0) continue;
      const slot = claim.claim(entryIn(value));
      // Only the owner empties cells and posters only fill empty ones: this cannot fail.
      Atomics.store(words, cell, 0);
      Atomics.sub(words, this.countWord, 1);
      if (slot >= 0) return slot;
    }
    return -1;
  }

  /** Any thread. The entries posted and not yet taken (a snapshot). */
  entries(): number[] {
    const found: number[] = [];
    for (let k = 0; k < this.capacity; k++) {
      const value = Atomics.load(this.words, this.cellsWord + k);
      if (value !== 0) found.push(entryIn(value));
    }
    return found;
  }

  /** Any thread. Whether a worker is at this index (an elastic pool may have none). */
  present(): boolean {
    return Atomics.load(this.words, this.countWord) >= 0;
  }

  /** Main thread, before any worker exists at this index: nobody is behind this mailbox. */
  markAbsent(): void {
    Atomics.store(this.words, this.countWord, ABSENT_COUNT);
  }

  /**
   * Main thread, before it starts a worker at an absent index; or a worker that marked itself
   * absent and stays after all. Subtracts the mark rather than storing 0, so that what other
   * threads add and take back meanwhile still balances.
   */
  markPresent(): void {
    if (Atomics.load(this.words, this.countWord) < 0) Atomics.sub(this.words, this.countWord, ABSENT_COUNT);
  }

  /** Any thread. A snapshot: whether anything may be waiting. */
  hasEntries(): boolean {
    return Atomics.load(this.words, this.countWord) > 0;
  }
}

/**
 * The entry a full cell holds. A cell stores `entry + 1`, which for the largest entry (2^31 - 1)
 * wraps to -2^31 in its Int32 word; `| 0` undoes the wrap, as entries are below 2^31.
 */
function entryIn(cell: number): number {
  return (cell - 1) | 0;
}
