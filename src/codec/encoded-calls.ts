/**
 * A batch's argument lists that arrive already encoded, each a self-contained PLAIN msgpack list
 * (a part, as `PayloadCodec.partOf` makes for calls that share a slot), the parts one after the
 * other in one buffer. A pool given them runs the batch without decoding and encoding every list
 * again on its main thread: a chunk of consecutive calls is one copy of their bytes behind an
 * array header (`PayloadCodec.chunkOfEncoded`), which is what a worker decodes for an encoded list
 * of lists. A cluster node gets its chunks' arguments this way (bullmq/packing.ts).
 *
 * The parts must not name shared buffers or moved values: they come from a process that has none
 * of this pool's.
 */
import { PayloadKind } from '../shm/slot.js';
import { unpack } from './msgpack.js';

/**
 * Marks an EncodedCalls by a registered symbol rather than by its class, so that two copies of
 * this module (the published bundle and its source, or two installs) know each other's.
 */
const ENCODED_CALLS = Symbol.for('viscose.EncodedCalls');

/** `A`: what each call's arguments decode to, as the sender vouches. */
export class EncodedCalls<A extends unknown[] = unknown[]> implements Iterable<A> {
  readonly [ENCODED_CALLS] = true;

  /**
   * @param bytes the parts, one after the other.
   * @param ends where each part ends in `bytes`: part i is [ends[i - 1] (0 for the first), ends[i]).
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly ends: readonly number[],
  ) {}

  /** The calls whose arguments are `parts`, copied into one buffer. */
  static fromParts<A extends unknown[]>(parts: readonly Uint8Array[]): EncodedCalls<A> {
    const ends = new Array<number>(parts.length);
    let length = 0;
    for (let i = 0; i < parts.length; i++) {
      length += parts[i].length;
      ends[i] = length;
    }
    const bytes = new Uint8Array(length);
    for (let i = 0; i < parts.length; i++) bytes.set(parts[i], ends[i] - parts[i].length);
    return new EncodedCalls(bytes, ends);
  }

  static is(value: unknown): value is EncodedCalls<unknown[]> {
    return typeof value === 'object' && value !== null && (value as { [ENCODED_CALLS]?: unknown })[ENCODED_CALLS] === true;
  }

  get length(): number {
    return this.ends.length;
  }

  /** Where call `index`'s part starts; `startOf(length)` is the end of the last. */
  startOf(index: number): number {
    return index === 0 ? 0 : this.ends[index - 1];
  }

  /** Call `index`'s part: a view of `bytes`. */
  part(index: number): Uint8Array {
    return this.bytes.subarray(this.startOf(index), this.ends[index]);
  }

  /** The calls at `indices`, in that order, copied. */
  select(indices: readonly number[]): EncodedCalls<A> {
    return EncodedCalls.fromParts(indices.map((index) => this.part(index)));
  }

  /** The argument lists, decoded (for a consumer that is not a pool's batch). */
  *[Symbol.iterator](): Iterator<A> {
    for (let i = 0; i < this.length; i++) {
      const part = this.part(i);
      yield unpack(part, part.length, PayloadKind.PLAIN) as A;
    }
  }
}
