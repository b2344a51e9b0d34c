/**
 * A bounded Chase–Lev work-stealing deque of non-negative Int32 entries in shared memory.
 *
 * One thread owns the deque and pushes and pops at the bottom (LIFO); any thread may steal from
 * the top (FIFO). Indices are Int32 that wrap: the length is `(bottom - top) | 0` and the ring
 * position is `index & mask`, both valid across the 2^31 boundary while the length stays below
 * 2^31. Every JS Atomics operation is sequentially consistent, which gives `pop` the store-load
 * order between writing `bottom` and reading `top` without a separate fence.
 *
 * The same structure serves as the injector: the main thread owns it and only pushes, workers
 * steal, which makes it a single-producer, multi-consumer FIFO; and as a worker's FIFO lanes
 * (src/worker/fifo-lanes.ts), where the worker pushes and every taker, the worker too, steals.
 *
 * A thief claims the task an entry names *before* it moves `top` past the entry, so that a thief
 * that dies between the two leaves a claimed task (whose owner is known) and a stale entry (which
 * the next taker skips), never a task that is queued nowhere. The owner's `pop` takes first and
 * claims after; a dead owner's deque is repaired by its successor (its adoptOwnership, called by NestedSlots.requeueLost).
 *
 * docs/internals/deque.md has the word-by-word protocol and why each step is safe.
 */

import type { EntryClaim } from './claim.js';
import { EMPTY, RETRY, type WorkQueue } from './work-queue.js';

export class ChaseLevDeque implements WorkQueue {
  readonly capacity: number;
  private readonly mask: number;
  /** The owner's copy of `bottom`; only the owner writes the shared word. */
  private bottom: number;

  constructor(
    private readonly words: Int32Array,
    private readonly topWord: number,
    private readonly bottomWord: number,
    private readonly ringWord: number,
    capacity: number,
  ) {
    if (capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`deque capacity must be a power of two, got ${capacity}`);
    }
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.bottom = Atomics.load(words, bottomWord);
  }

  /**
   * Sets both indices to `start`. Only while no other thread uses the deque (creation, tests that
   * start near the Int32 wrap point).
   */
  reset(start = 0): void {
    Atomics.store(this.words, this.topWord, start);
    Atomics.store(this.words, this.bottomWord, start);
    this.bottom = start;
  }

  /** Owner only. Whether a push would succeed (thieves can only make more room). */
  hasRoom(): boolean {
    return ((this.bottom - Atomics.load(this.words, this.topWord)) | 0) < this.capacity;
  }

  /** Owner only. Returns false when the deque is full; the entry is then not queued. */
  push(entry: number): boolean {
    const b = this.bottom;
    const t = Atomics.load(this.words, this.topWord);
    if (((b - t) | 0) >= this.capacity) return false;
    // A plain write is enough: the sequentially consistent store of `bottom` below publishes it to
    // any thief that reads the new `bottom` with Atomics.load.
    this.words[this.ringWord + (b & this.mask)] = entry;
    const next = (b + 1) | 0;
    Atomics.store(this.words, this.bottomWord, next);
    this.bottom = next;
    return true;
  }

  /** Owner only. Takes the most recently pushed entry, or returns EMPTY. */
  pop(): number {
    const b = (this.bottom - 1) | 0;
    Atomics.store(this.words, this.bottomWord, b);
    const t = Atomics.load(this.words, this.topWord);
    const size = (b - t) | 0;
    if (size < 0) {
      Atomics.store(this.words, this.bottomWord, this.bottom);
      return EMPTY;
    }
    const entry = this.words[this.ringWord + (b & this.mask)];
    if (size > 0) {
      this.bottom = b;
      return entry;
    }
    // The last entry: thieves may be reading it too, so claim it through `top` like they do.
    const won = Atomics.compareExchange(this.words, this.topWord, t, (t + 1) | 0) === t;
    Atomics.store(this.words, this.bottomWord, this.bottom);
    return won ? entry : EMPTY;
  }

  /**
   * Any thread. Claims the task of the oldest entry with `claim`, then removes the entry; returns
   * the claimed slot, EMPTY when there is nothing to take, or RETRY when a race was lost or a stale
   * entry was skipped.
   */
  steal(claim: EntryClaim): number {
    const t = Atomics.load(this.words, this.topWord);
    const entry = this.oldestAt(t);
    if (entry < 0) return entry;
    const slot = claim.claim(entry);
    Atomics.compareExchange(this.words, this.topWord, t, (t + 1) | 0);
    return slot >= 0 ? slot : RETRY;
  }

  /**
   * The entry at index `t` (just read from `top`), EMPTY when the deque is empty, or RETRY when
   * `top` moved while reading it.
   */
  private oldestAt(t: number): number {
    const b = Atomics.load(this.words, this.bottomWord);
    if (((b - t) | 0) <= 0) return EMPTY;
    const entry = Atomics.load(this.words, this.ringWord + (t & this.mask));
    // Once `top` moves past t the owner may overwrite this position with a newer entry. Claiming
    // that one would not be wrong (it names a queued task too), but it would take tasks out of
    // their order; with `top` still at t, the entry read is the t-th.
    return Atomics.load(this.words, this.topWord) === t ? entry : RETRY;
  }

  /**
   * The new owner of a dead owner's deque: re-reads `bottom`, and lifts it back to `top` if the
   * dead owner stopped inside the last-entry branch of `pop` (after winning `top`, before
   * restoring `bottom`), which would otherwise make the next push invisible.
   * Returns the entries between `top` and `bottom`.
   */
  adoptOwnership(): Set<number> {
    const t = Atomics.load(this.words, this.topWord);
    let b = Atomics.load(this.words, this.bottomWord);
    if (((b - t) | 0) < 0) {
      b = t;
      Atomics.store(this.words, this.bottomWord, b);
    }
    this.bottom = b;
    const entries = new Set<number>();
    for (let i = t; i !== b; i = (i + 1) | 0) entries.add(Atomics.load(this.words, this.ringWord + (i & this.mask)));
    return entries;
  }

  /** Any thread. A snapshot that may be stale by the time it returns. */
  isEmpty(): boolean {
    return ((Atomics.load(this.words, this.bottomWord) - Atomics.load(this.words, this.topWord)) | 0) <= 0;
  }

  /** Any thread. A snapshot of the number of entries. */
  size(): number {
    const n = (Atomics.load(this.words, this.bottomWord) - Atomics.load(this.words, this.topWord)) | 0;
    return Math.max(n, 0);
  }
}
