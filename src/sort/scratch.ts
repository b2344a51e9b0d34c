/**
 * The shared memory a sort borrows besides the caller's data: its scratch buffer, and the shared
 * copy of a view whose memory is not shared. Buffers are kept for the next sort rather than left
 * to the garbage collector: a SharedArrayBuffer's memory goes back only once every thread that saw
 * it has collected it, and a worker that allocates little collects rarely, so 80 MB of scratch per
 * sort of 10,000,000 Float64 would pile up.
 */
import type { AnyNumericArray } from './sortable.js';

type NumericArrayConstructor = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => AnyNumericArray;

/** How many idle buffers a thread keeps: a scratch and a copy. */
const KEPT = 2;

export class ScratchBuffers {
  /** Idle buffers, largest first. */
  private readonly idle: SharedArrayBuffer[] = [];

  /** `drop` is told of a buffer this thread lets go of (the main thread has the workers forget it). */
  constructor(private readonly drop: (buffer: SharedArrayBuffer) => void = () => {}) {}

  /** A view of `like`'s kind and of `length` items in shared memory, new or reused (its items are stale). */
  take(like: AnyNumericArray, length = like.length): AnyNumericArray {
    const bytes = length * like.BYTES_PER_ELEMENT;
    // The smallest idle buffer that is large enough.
    const index = this.idle.findLastIndex((buffer) => buffer.byteLength >= bytes);
    const buffer = index < 0 ? new SharedArrayBuffer(bytes) : this.idle.splice(index, 1)[0];
    return new (like.constructor as NumericArrayConstructor)(buffer, 0, length);
  }

  /** A shared copy of `view`, in a buffer from `take`. */
  copyOf(view: AnyNumericArray): AnyNumericArray {
    const copy = this.take(view);
    copy.set(view);
    return copy;
  }

  /**
   * Lets go of what `take` lent to a sort that failed: never reused, since after a worker's death a
   * piece of that sort may still be writing into it.
   */
  letGo(views: AnyNumericArray[]): void {
    for (const view of views) this.drop(view.buffer as SharedArrayBuffer);
  }

  /** Gives back what `take` lent: kept for the next sort, or let go of if enough are kept. */
  give(views: AnyNumericArray[]): void {
    for (const view of views) this.idle.push(view.buffer as SharedArrayBuffer);
    this.idle.sort((a, b) => b.byteLength - a.byteLength);
    for (const extra of this.idle.splice(KEPT)) this.drop(extra);
  }
}
