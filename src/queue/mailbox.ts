/**
 * A worker's mailbox: jobs addressed to that worker alone (one part of a broadcast). Any thread may
 * post, only the owner takes.
 *
 * Each cell holds 0 or `entry + 1` and changes only by compare-exchange: a poster claims an empty
 * cell, the owner empties a full one. Posting is one exchange on one word, so a poster that dies
 * half-way leaves either nothing or a complete entry — never a reserved hole that would block the
 * owner, which a FIFO ring with a shared tail would risk. The COUNT word (incremented after the
 * cell is filled, decremented after it is emptied) lets the owner skip the scan when it is zero; a
 * stale count only costs a scan. Order among mailbox entries is not kept: a broadcast needs none.
 */
export class Mailbox {
  private cursor = 0;

  constructor(
    private readonly words: Int32Array,
    private readonly countWord: number,
    private readonly cellsWord: number,
    readonly capacity: number,
  ) {}

  /** Any thread. Returns false when every cell is taken. */
  post(entry: number): boolean {
    const words = this.words;
    for (let k = 0; k < this.capacity; k++) {
      const cell = this.cellsWord + ((this.cursor + k) % this.capacity);
      if (Atomics.load(words, cell) === 0 && Atomics.compareExchange(words, cell, 0, entry + 1) === 0) {
        this.cursor = (this.cursor + k + 1) % this.capacity;
        Atomics.add(words, this.countWord, 1);
        return true;
      }
    }
    return false;
  }

  /** Owner only. Takes an entry, or returns -1. */
  take(): number {
    const words = this.words;
    if (Atomics.load(words, this.countWord) <= 0) return -1;
    for (let k = 0; k < this.capacity; k++) {
      const cell = this.cellsWord + k;
      const value = Atomics.load(words, cell);
      if (value !== 0 && Atomics.compareExchange(words, cell, value, 0) === value) {
        Atomics.sub(words, this.countWord, 1);
        return value - 1;
      }
    }
    return -1;
  }

  /** Any thread. A snapshot: whether anything may be waiting. */
  hasEntries(): boolean {
    return Atomics.load(this.words, this.countWord) > 0;
  }
}
