/**
 * A batch's argument lists that arrive already encoded, each a self-contained PLAIN msgpack list
 * (a part, as `PayloadCodec.partOf` makes for calls that share a slot). A pool given them runs the
 * batch without decoding and encoding every list again on its main thread: each chunk is the
 * parts behind an array header (`PayloadCodec.chunkOf`), which is what a worker decodes for an
 * encoded list of lists. A cluster node gets its chunks' arguments this way (bullmq/packed-calls.ts).
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

  /** @param parts each call's arguments, a PLAIN msgpack array apiece. */
  constructor(readonly parts: readonly Uint8Array[]) {}

  static is(value: unknown): value is EncodedCalls<unknown[]> {
    return typeof value === 'object' && value !== null && (value as { [ENCODED_CALLS]?: unknown })[ENCODED_CALLS] === true;
  }

  get length(): number {
    return this.parts.length;
  }

  /** Bytes of parts [start, start + count) together. */
  bytes(start: number, count: number): number {
    let bytes = 0;
    for (let i = start; i < start + count; i++) bytes += this.parts[i].length;
    return bytes;
  }

  /** The argument lists, decoded (for a consumer that is not a pool's batch). */
  *[Symbol.iterator](): Iterator<A> {
    for (const part of this.parts) yield unpack(part, part.length, PayloadKind.PLAIN) as A;
  }
}
