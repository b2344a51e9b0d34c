/**
 * The scalar fast path: short lists of numbers, booleans, null and undefined skip msgpackr. Each
 * value gets a 3-bit tag in one header word and numbers are stored as raw float64, which costs a few
 * nanoseconds instead of the ~0.6 µs of a msgpack round trip and keeps -0 and NaN payloads exact.
 *
 * Integers get a tag of their own and are read back as int32 values. A number read from a
 * Float64Array is a double to V8 even when it is 30, and a double passed to integer code teaches
 * its type feedback "any number": a recursive fib given `n` as a double ran 1.7 times slower on
 * every later call, since each `n - 1` then allocates a heap number.
 */

export const MAX_SCALARS = 8;

const NUMBER = 0;
const TRUE = 1;
const FALSE = 2;
const NULL = 3;
const UNDEFINED = 4;
/** A number that is an int32 (and not -0): read back with `| 0`, so V8 keeps it a small integer. */
const INTEGER = 5;

/** Tag word for `values`, or -1 when they do not all fit the fast path. */
export function scalarTags(values: readonly unknown[]): number {
  const n = values.length;
  if (n > MAX_SCALARS) return -1;
  let tags = 0;
  for (let i = 0; i < n; i++) {
    const tag = tagOf(values[i]);
    if (tag < 0) return -1;
    tags |= tag << (3 * i);
  }
  return tags;
}

/** Tag of a single value, or -1 when it is not a scalar. */
export function tagOf(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return (value | 0) === value && (value !== 0 || 1 / value > 0) ? INTEGER : NUMBER;
    case 'boolean':
      return value ? TRUE : FALSE;
    case 'undefined':
      return UNDEFINED;
    case 'object':
      return value === null ? NULL : -1;
    default:
      return -1;
  }
}

/** Writes the numbers of `values` at `f64[index + i]`; other tags need no storage. */
export function writeScalars(f64: Float64Array, index: number, values: readonly unknown[]): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === 'number') f64[index + i] = value;
  }
}

export function readScalar(f64: Float64Array, index: number, tag: number): unknown {
  switch (tag) {
    case INTEGER:
      return f64[index] | 0;
    case NUMBER:
      return f64[index];
    case TRUE:
      return true;
    case FALSE:
      return false;
    case NULL:
      return null;
    default:
      return undefined;
  }
}

export function readScalars(f64: Float64Array, index: number, tags: number, count: number): unknown[] {
  const values = new Array<unknown>(count);
  for (let i = 0; i < count; i++) values[i] = readScalar(f64, index + i, (tags >>> (3 * i)) & 7);
  return values;
}
