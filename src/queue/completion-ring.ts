/**
 * A single-producer, single-consumer ring of non-negative Int32 entries in shared memory.
 *
 * Each worker owns one and publishes the slots of the tasks it finished; the main thread drains
 * all of them. One ring per worker instead of one ring shared by all workers means that
 * publishing needs no read-modify-write and that a worker dying between two operations can never
 * leave a reserved-but-unwritten position that would block the consumer.
 */
import { ThreadPoolError } from '../errors.js';

export class CompletionRing {
  readonly capacity: number;
  private readonly mask: number;
  /** The producer's copy of the tail, or the consumer's copy of the head, depending on the side. */
  private position: number;

  constructor(
    private readonly words: Int32Array,
    private readonly headWord: number,
    private readonly tailWord: number,
    private readonly ringWord: number,
    capacity: number,
    side: 'producer' | 'consumer',
  ) {
    if (capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two, got ${capacity}`);
    }
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.position = Atomics.load(words, side === 'producer' ? tailWord : headWord);
  }

  /** Producer only. Sets both ends to `start` while nobody else uses the ring. */
  reset(start = 0): void {
    Atomics.store(this.words, this.headWord, start);
    Atomics.store(this.words, this.tailWord, start);
    this.position = start;
  }

  /**
   * Producer only. The ring is sized so that it cannot overflow (see computeLayout); a full ring
   * means that invariant broke, which is a bug worth failing loudly for rather than losing an entry.
   */
  push(entry: number): void {
    const tail = this.position;
    if (((tail - Atomics.load(this.words, this.headWord)) | 0) >= this.capacity) {
      throw new ThreadPoolError('viscose internal error: completion ring overflow');
    }
    this.words[this.ringWord + (tail & this.mask)] = entry;
    const next = (tail + 1) | 0;
    Atomics.store(this.words, this.tailWord, next);
    this.position = next;
  }

  /**
   * Consumer only. Calls `consume` for every published entry, oldest first; returns how many it
   * consumed. `consume` may drain the ring again (a listener it runs makes a call, whose submission
   * drains first): the inner drain takes the entries after it, and this one then stops.
   */
  drain(consume: (entry: number) => void): number {
    const tail = Atomics.load(this.words, this.tailWord);
    let consumed = 0;
    while (((tail - this.position) | 0) > 0) {
      const entry = this.words[this.ringWord + (this.position & this.mask)];
      this.position = (this.position + 1) | 0;
      // Publish the head before consuming: consuming frees the entry's slot, which may be refilled
      // and completed again while this drain is still running, and the producer's overflow check
      // must already count this entry as gone.
      Atomics.store(this.words, this.headWord, this.position);
      consumed++;
      consume(entry);
    }
    return consumed;
  }

  /** Consumer side. True when an entry is waiting. */
  hasEntries(): boolean {
    return Atomics.load(this.words, this.tailWord) !== this.position;
  }
}
