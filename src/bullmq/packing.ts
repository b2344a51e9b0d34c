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
 * The values go as one RECORDS msgpack list (objects of one shape share their keys), in base64:
 * the client decodes that about four times faster than their JSON, and the chunk's completed
 * event, which Redis keeps in the queue's event stream, is a third of the size for small objects.
 *
 * Only what is made of JSON's own types is packed: null, booleans, finite numbers, well-formed
 * strings, arrays without holes and plain objects, nested at most 64 deep. Those decode to what
 * JSON would give, so neither a task nor a caller can tell how a chunk travelled. Anything else (a
 * Date, a Map, `undefined`, a class instance, an object with `toJSON`) leaves the arguments or the
 * values in JSON, with JSON's conversions, as they always travelled.
 */
import { EncodedCalls } from '../codec/encoded-calls.js';
import { pack, unpack } from '../codec/msgpack.js';
import { elementsOf } from '../codec/msgpack-extent.js';
import { PayloadKind } from '../shm/slot.js';

/** Bytes of a part's length in front of the parts: little-endian, unsigned. */
const LENGTH_BYTES = 4;

/** Deeper nesting travels as JSON, which alone says what is wrong with a cycle. */
const MAX_DEPTH = 64;

/**
 * `calls` packed: each part's length, then the parts. Undefined when one of them holds a value
 * JSON's types do not cover.
 */
export function packCalls(calls: readonly unknown[][]): Buffer | undefined {
  if (!isJsonData(calls, -1)) return undefined;
  // One list of the argument lists: its elements are the parts, behind the list's header.
  const { bytes, start, end } = pack(calls, PayloadKind.PLAIN);
  const { first, ends } = elementsOf(bytes, start, end);
  const header = LENGTH_BYTES * calls.length;
  const packed = Buffer.allocUnsafe(header + end - first);
  packed.set(bytes.subarray(first, end), header);
  for (let i = 0, partStart = first; i < ends.length; partStart = ends[i++]) packed.writeUInt32LE(ends[i] - partStart, LENGTH_BYTES * i);
  return packed;
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
  if (!isJsonData(values, -1)) return undefined;
  const { bytes, start, end } = pack(values, PayloadKind.RECORDS);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('base64');
}

/** The values `packValues` packed. Throws when they are not a packed list (a result not from a viscose node). */
export function unpackValues(packed: string): unknown[] {
  const bytes = Buffer.from(packed, 'base64');
  const values = unpack(bytes, bytes.length, PayloadKind.RECORDS);
  if (!Array.isArray(values)) throw new TypeError(`packed values decode to ${typeof values}, not a list`);
  return values;
}

/** Whether `value` is made of JSON's own types only; `depth` -1 for a list whose items count as the first level. */
function isJsonData(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      // A lone surrogate has no UTF-8 form: JSON escapes it, msgpack would not keep it.
      return value.isWellFormed();
    case 'number':
      return Number.isFinite(value);
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth === MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        // A hole reads as undefined, which is refused.
        for (let i = 0; i < value.length; i++) if (!isJsonData(value[i], depth + 1)) return false;
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        // msgpack decoding drops a `__proto__` key, which JSON.parse keeps as an own property.
        if (key === '__proto__' || !isJsonData((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
