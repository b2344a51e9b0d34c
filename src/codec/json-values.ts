/**
 * Values of JSON's own types, packed so that they decode to exactly what JSON would give: null,
 * booleans, finite numbers, well-formed strings, arrays without holes and plain objects, nested at
 * most 64 deep. A cluster's chunks carry their arguments and values this way (bullmq/packing.ts),
 * and a worker packs a chunk's values itself when its caller asks (SlotFlag.PACK_VALUES), so that
 * a cluster node forwards them as they are instead of decoding and packing them again.
 *
 * Anything else (a Date, a Map, `undefined`, a class instance, an object with `toJSON`) is refused:
 * JSON converts it in ways msgpack would not.
 */
import { PayloadKind } from '../shm/slot.js';
import { pack } from './msgpack.js';

/** Deeper nesting travels as JSON, which alone says what is wrong with a cycle. */
export const MAX_JSON_DEPTH = 64;

/**
 * `values` as one RECORDS msgpack list (objects of one shape share their keys), in bytes of their
 * own; undefined when one of them is not of JSON's types.
 */
export function packJsonValues(values: readonly unknown[]): Uint8Array | undefined {
  if (!isJsonData(values, -1)) return undefined;
  const { bytes, start, end } = pack(values, PayloadKind.RECORDS);
  return bytes.slice(start, end);
}

/** Whether `value` is made of JSON's own types only; `depth` -1 for a list whose items count as the first level. */
export function isJsonData(value: unknown, depth: number): boolean {
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
      if (depth === MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        // A hole reads as undefined, which is refused.
        for (let i = 0; i < value.length; i++) if (!isJsonData(value[i], depth + 1)) return false;
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        // msgpack decoding drops a `__proto__` key, which JSON.parse keeps as an own property, and
        // a key with a lone surrogate would arrive with U+FFFD in its place.
        if (key === '__proto__' || !key.isWellFormed() || !isJsonData((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
