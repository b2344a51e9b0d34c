/**
 * The msgpackr configuration every thread uses.
 *
 * - Records are off for the common encoding: msgpackr's per-thread record structures diverge
 *   between threads and make messages undecodable elsewhere. Objects travel as msgpack maps and are
 *   decoded as plain objects.
 * - That leaves a JS Map indistinguishable from an object. Values that contain a Map (inspect.ts
 *   finds them) are encoded with self-describing inline records for objects instead, so that the
 *   decoder can read msgpack maps as Map. It is about twice as slow for small values, so it is only
 *   used when needed.
 * - `moreTypes` keeps Set, RegExp, typed arrays, ArrayBuffer, DataView and BigInt; Dates are
 *   msgpack timestamps; Errors use our own extension (error-extension.ts).
 * - `copyBuffers` makes decoded binary data independent of the buffer it was decoded from, which is
 *   reused for the next message.
 */
import { Packr, Unpackr } from 'msgpackr';
import { PayloadKind } from '../shm/slot.js';
import { registerErrorExtension } from './error-extension.js';

registerErrorExtension();

const common = {
  moreTypes: true,
  copyBuffers: true,
  // inspect.ts rejects functions first; this is the last line of defence against silently
  // encoding one as undefined.
  writeFunction(): never {
    throw new TypeError('functions cannot be sent between threads');
  },
};

const plainPackr = new Packr({ ...common, useRecords: false });
const plainUnpackr = new Unpackr({ ...common, useRecords: false, mapsAsObjects: true });
const mapPackr = new Packr({ ...common, useRecords: true });
const mapUnpackr = new Unpackr({ ...common, useRecords: true, mapsAsObjects: false });

/**
 * Packs `value`. The bytes live in msgpackr's reusable buffer and are valid until the next pack on
 * this thread: copy them before packing anything else.
 */
export function pack(value: unknown, kind: number): Uint8Array {
  return (kind === PayloadKind.PACKED_WITH_MAPS ? mapPackr : plainPackr).pack(value);
}

/** Unpacks the first `length` bytes of a private (never shared) buffer. */
export function unpack(source: Uint8Array, length: number, kind: number): unknown {
  return (kind === PayloadKind.PACKED_WITH_MAPS ? mapUnpackr : plainUnpackr).unpack(source, length);
}
