/**
 * What a chunk's job carries in msgpack rather than JSON: its calls' arguments, and its calls'
 * values in its result.
 *
 * The arguments go in the pool's own encoding, so that a node hands them to its pool as they are
 * (codec/encoded-calls.ts) instead of parsing every call's arguments out of JSON and encoding them
 * again for its workers: on a node that was a third of its main thread's work. Each call's
 * argument list is a PLAIN msgpack list (a part); the chunk's bytes are the parts' lengths, then
 * the parts one after the other. They are stored beside the job, not in its data (job-args.ts).
 *
 * The values go as RECORDS msgpack lists (objects of one shape share their keys), one after the
 * other, in base64: the client decodes that about four times faster than their JSON, and the
 * chunk's completed event, which Redis keeps in the queue's event stream, is a third of the size
 * for small objects. Each list holds the values of consecutive calls, in order: a node's workers
 * pack them, one list per pool chunk (SlotFlag.PACK_VALUES), and the node joins the lists as they
 * are; it packs the values itself only when it had to decode them (a retried chunk).
 *
 * Only what is made of JSON's own types is packed (codec/json-values.ts). Those decode to what
 * JSON would give, so neither a task nor a caller can tell how a chunk travelled. Anything else (a
 * Date, a Map, `undefined` inside a value, a class instance, an object with `toJSON`) leaves the
 * arguments or the values in JSON, with JSON's conversions, as they always travelled.
 */
import { EncodedCalls } from '../codec/encoded-calls.js';
import { packJsonEach } from '../codec/json-msgpack.js';
import { packJsonValues } from '../codec/json-values.js';
import { unpack, unpackSequence } from '../codec/msgpack.js';
import { PayloadKind } from '../shm/slot.js';

/** Bytes of a part's length in front of the parts: little-endian, unsigned. */
const LENGTH_BYTES = 4;

/**
 * `calls` packed: each part's length, then the parts. Undefined when one of them holds a value
 * JSON's types do not cover.
 */
export function packCalls(calls: readonly unknown[][]): Buffer | undefined {
  const header = LENGTH_BYTES * calls.length;
  const packed = packJsonEach(calls, header, 0);
  if (packed === undefined) return undefined;
  const { bytes, ends } = packed;
  for (let i = 0, start = header; i < ends.length; start = ends[i++]) bytes.writeUInt32LE(ends[i] - start, LENGTH_BYTES * i);
  return bytes;
}

/**
 * The calls of a chunk of `count` calls packed into `bytes`, as a node's pool takes them. Throws
 * when the lengths do not cut the bytes into `count` parts (bytes not from a viscose client).
 */
export function unpackCalls(bytes: Uint8Array, count: number): EncodedCalls {
  const header = LENGTH_BYTES * count;
  if (!Number.isInteger(count) || count <= 0 || header > bytes.length) {
    throw new RangeError(`${bytes.length} bytes cannot hold the lengths of ${count} packed calls`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ends = new Array<number>(count);
  let end = 0;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(LENGTH_BYTES * i, true);
    if (length === 0 || header + end + length > bytes.length) {
      throw new RangeError(`packed call ${i}'s length (${length}) does not fit from byte ${end} of its ${bytes.length - header}`);
    }
    end += length;
    ends[i] = end;
  }
  if (header + end !== bytes.length) throw new RangeError(`packed calls end at byte ${end}, their bytes at ${bytes.length - header}`);
  return new EncodedCalls(bytes.subarray(header), ends);
}

/** What a call's arguments add to a job: packed if they can be, else in JSON. */
export function argumentBytes(args: unknown[]): { bytes: number; packed: boolean } {
  const packed = packCalls([args]);
  return packed === undefined ? { bytes: JSON.stringify(args)?.length ?? 0, packed: false } : { bytes: packed.length, packed: true };
}

/** `values` as RECORDS msgpack in base64, or undefined when one of them is not of JSON's types. */
export function packValues(values: readonly unknown[]): string | undefined {
  const packed = packJsonValues(values);
  return packed === undefined ? undefined : joinPackedValues([packed]);
}

/** Lists of values packed by a node's workers, in the order of their calls, as one result's values. */
export function joinPackedValues(lists: readonly Uint8Array[]): string {
  // A node of one thread has one list a chunk: it needs no copy.
  const joined = lists.length === 1 ? lists[0] : Buffer.concat(lists);
  return Buffer.from(joined.buffer, joined.byteOffset, joined.byteLength).toString('base64');
}

/** The values of one list a worker packed. */
export function unpackValueList(list: Uint8Array): unknown[] {
  return listOf(unpack(list, list.length, PayloadKind.RECORDS));
}

/**
 * The values `packValues` or `joinPackedValues` packed. Throws when they are not packed lists (a
 * result not from a viscose node).
 */
export function unpackValues(packed: string): unknown[] {
  const lists = unpackSequence(Buffer.from(packed, 'base64'), PayloadKind.RECORDS).map(listOf);
  return lists.length === 1 ? lists[0] : lists.flat(1);
}

function listOf(values: unknown): unknown[] {
  if (!Array.isArray(values)) throw new TypeError(`packed values decode to ${typeof values}, not a list`);
  return values;
}
