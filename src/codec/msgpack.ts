/**
 * The msgpackr configuration every thread uses.
 *
 * - Records are off for the common encoding: msgpackr's per-thread record structures diverge
 *   between threads and make messages undecodable elsewhere. Objects travel as msgpack maps and are
 *   decoded as plain objects.
 * - That leaves a JS Map indistinguishable from an object. Values that contain a Map (inspect.ts
 *   finds them) are encoded with self-describing inline records for objects instead (RECORDS), so
 *   that the decoder can read msgpack maps as Map. Records cost about twice as much for one small
 *   value, but decode arrays of same-shaped objects about five times faster (one record
 *   definition, then a generated reader), so batches always use them.
 * - Strings are not bundled (msgpackr's `bundleStrings`). Isolated pack/unpack loops suggested
 *   bundles were faster for chunks of short strings, but in the pool, with msgpackr's reusable
 *   buffer, a batch of 100,000 calls each carrying one 17-character string ran at 0.50–0.74 M
 *   calls/s with bundles against 0.70–0.88 M without (bench/one.mjs, four alternating pairs of
 *   fresh processes), and a processor's chunked stream of 45-character requests showed no gain.
 * - `moreTypes` keeps Set, RegExp, ArrayBuffer and BigInt; Dates are msgpack timestamps; typed
 *   arrays, DataViews and Buffers use our own extension, which sends views over shared memory by
 *   reference (typed-array-extension.ts); Errors use our own extension too (error-extension.ts).
 * - Values marked with `transfer()` are written as where the reader finds them (moved-extension.ts).
 * - `copyBuffers` makes decoded binary data independent of the buffer it was decoded from, which is
 *   reused for the next message.
 * - Boxed primitives (boxed-primitive-extension.ts), -0 (negative-zero.ts) and arrays with holes
 *   (sparse-array-extension.ts) have extensions of their own: msgpackr would write a box as `{}`,
 *   -0 as 0 and each hole as `undefined`.
 * - msgpackr's fast object writer leaves 16 bits for the key count and throws past 65,535 keys;
 *   its `variableMapSize` writer has no limit but packed small objects about 15 % slower, so it
 *   is kept for the values the fast one refuses.
 */
import { Packr, RESET_BUFFER_MODE, REUSE_BUFFER_MODE, Unpackr } from 'msgpackr';
import { PayloadKind } from '../shm/slot.js';
import { registerBoxedPrimitiveExtension } from './boxed-primitive-extension.js';
import { registerErrorExtension } from './error-extension.js';
import { registerMovedExtension } from './moved-extension.js';
import { registerNegativeZeroExtension } from './negative-zero.js';
import { registerSparseArrayExtension } from './sparse-array-extension.js';
import { registerTypedArrayExtension } from './typed-array-extension.js';

// msgpackr tries extensions in the reverse order of registration: the common ones come last.
registerSparseArrayExtension();
registerBoxedPrimitiveExtension();
registerNegativeZeroExtension();
registerErrorExtension();
registerTypedArrayExtension();
registerMovedExtension();

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
const widePlainPackr = new Packr({ ...common, useRecords: false, variableMapSize: true });
const plainUnpackr = new Unpackr({ ...common, useRecords: false, mapsAsObjects: true });
const recordPackr = new Packr({ ...common, useRecords: true });
const wideRecordPackr = new Packr({ ...common, useRecords: true, variableMapSize: true });
const recordUnpackr = new Unpackr({ ...common, useRecords: true, mapsAsObjects: false });

/**
 * Where the bytes of the last `pack` are: `bytes[start, end)`. `bytes` is a plain Uint8Array over
 * msgpackr's reusable buffer; it is overwritten by the next pack on this thread, so copy it first.
 */
export interface Packed {
  bytes: Uint8Array;
  start: number;
  end: number;
}

const packed: Packed = { bytes: new Uint8Array(0), start: 0, end: 0 };

/**
 * Packs `value` into msgpackr's reusable buffer. Asking msgpackr to reuse and reset its buffer
 * (instead of returning a fresh Buffer slice) halves the cost of packing a small value, which is
 * what most task arguments and results are.
 */
export function pack(value: unknown, kind: number): Packed {
  const records = kind === PayloadKind.RECORDS;
  let target: Buffer & { start: number; end: number };
  try {
    target = (records ? recordPackr : plainPackr).pack(value, REUSE_BUFFER_MODE | RESET_BUFFER_MODE) as typeof target;
  } catch {
    // Perhaps an object of more than 65,535 keys; any other failure fails again here.
    target = (records ? wideRecordPackr : widePlainPackr).pack(value, REUSE_BUFFER_MODE | RESET_BUFFER_MODE) as typeof target;
  }
  if (packed.bytes.buffer !== target.buffer || packed.bytes.byteOffset !== target.byteOffset) {
    // Uint8Array#subarray is much cheaper than Buffer#subarray, and copies only need plain views.
    packed.bytes = new Uint8Array(target.buffer, target.byteOffset, target.length);
  }
  packed.start = target.start;
  packed.end = target.end;
  return packed;
}

/** Unpacks the first `length` bytes of a private (never shared) buffer. */
export function unpack(source: Uint8Array, length: number, kind: number): unknown {
  return (kind === PayloadKind.RECORDS ? recordUnpackr : plainUnpackr).unpack(source, length);
}

/** Unpacks every value of `source`, a private buffer holding values packed one after the other. */
export function unpackSequence(source: Uint8Array, kind: number): unknown[] {
  return (kind === PayloadKind.RECORDS ? recordUnpackr : plainUnpackr).unpackMultiple(source);
}
