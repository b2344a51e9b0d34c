/**
 * What a chunk's job carries in msgpack rather than JSON: its calls' arguments, and its calls'
 * values in its result.
 *
 * The arguments go in the pool's own encoding, so that a node hands them to its pool as they are
 * (codec/encoded-calls.ts) instead of parsing every call's arguments out of JSON and encoding them
 * again for its workers: on a node that was a third of its main thread's work. Each call's
 * argument list is a PLAIN msgpack list (a part); the parts go together in one base64 string,
 * since BullMQ keeps a job's data as JSON, with the length of each.
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
import { PayloadKind } from '../shm/slot.js';

/** The arguments of a chunk's calls, packed. */
export interface PackedCalls {
  /** The parts, one after the other, in base64. */
  packed: string;
  /** Each call's part's length in bytes, in order (shorter in JSON than the offsets). */
  lengths: number[];
}

/** Deeper nesting travels as JSON, which alone says what is wrong with a cycle. */
const MAX_DEPTH = 64;

/** `calls` packed, or undefined when one of them holds a value JSON's types do not cover. */
export function packCalls(calls: readonly unknown[][]): PackedCalls | undefined {
  let bytes = Buffer.allocUnsafe(64 * calls.length);
  let length = 0;
  const lengths = new Array<number>(calls.length);
  for (let i = 0; i < calls.length; i++) {
    if (!isJsonData(calls[i], 0)) return undefined;
    const { bytes: source, start, end } = pack(calls[i], PayloadKind.PLAIN);
    if (length + end - start > bytes.length) {
      const grown = Buffer.allocUnsafe(2 * (length + end - start));
      bytes.copy(grown, 0, 0, length);
      bytes = grown;
    }
    bytes.set(source.subarray(start, end), length);
    length += end - start;
    lengths[i] = end - start;
  }
  return { packed: bytes.toString('base64', 0, length), lengths };
}

/**
 * The calls of a packed chunk, as a node's pool takes them. Throws when `lengths` do not cut the
 * bytes into parts (data from a producer that is not a viscose client).
 */
export function unpackCalls({ packed, lengths }: PackedCalls): EncodedCalls {
  const bytes = Buffer.from(packed, 'base64');
  if (!Array.isArray(lengths)) throw new TypeError('a packed chunk has no array of lengths');
  const ends = new Array<number>(lengths.length);
  let end = 0;
  for (let i = 0; i < lengths.length; i++) {
    const length = lengths[i];
    if (!Number.isInteger(length) || length <= 0 || end + length > bytes.length) {
      throw new RangeError(`a packed chunk's lengths[${i}] (${length}) does not fit from byte ${end} of its ${bytes.length}`);
    }
    end += length;
    ends[i] = end;
  }
  if (end !== bytes.length) throw new RangeError(`a packed chunk's parts end at byte ${end}, its bytes at ${bytes.length}`);
  return new EncodedCalls(bytes, ends);
}

/** What a call's arguments add to a job's data, packed if they can be, else in JSON. */
export function bytesInJob(args: unknown[]): number {
  const packed = packCalls([args]);
  if (packed === undefined) return JSON.stringify(args)?.length ?? 0;
  return packed.packed.length + String(packed.lengths[0]).length + 1;
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
