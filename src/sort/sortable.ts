/**
 * What the parallel sorts accept, and the shared memory they sort in: the numeric typed arrays
 * (every kind `TypedArray.prototype.sort` orders by value), checked with a message that says what
 * was wrong, and copies of them in a SharedArrayBuffer for a view whose memory is not shared.
 */
import { isDetached } from '../codec/transfer.js';

/** A typed array the parallel sorts order by value, as `TypedArray.prototype.sort` does. */
export type NumericArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** The items of what `parSortBy` sorts: numbers or bigints of a typed array, elements of an array. */
export type SortItem<A> = A extends BigInt64Array | BigUint64Array
  ? bigint
  : A extends NumericArray
    ? number
    : A extends readonly (infer T)[]
      ? T
      : never;

/** A typed array of any numeric kind, seen through what the sorts use of it. */
export interface AnyNumericArray {
  readonly length: number;
  readonly byteLength: number;
  readonly BYTES_PER_ELEMENT: number;
  readonly buffer: ArrayBufferLike;
  [index: number]: number | bigint;
  subarray(begin?: number, end?: number): AnyNumericArray;
  set(source: AnyNumericArray, offset?: number): void;
  sort(compare?: (a: never, b: never) => number): unknown;
}

export function isNumericArray(value: unknown): value is NumericArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** Throws a TypeError unless `value` is a typed array whose buffer is still attached. */
export function checkNumericArray(value: unknown, where: string): asserts value is NumericArray {
  if (!isNumericArray(value)) {
    const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value === 'object' ? 'an object' : typeof value;
    const hint = Array.isArray(value) ? ': to sort an array, use parSortBy with a compare task' : '';
    throw new TypeError(`${where} sorts a typed array (Float64Array, Int32Array, BigInt64Array, …); got ${got}${hint}`);
  }
  if (isDetached(value.buffer)) throw new TypeError(`${where}: the typed array's buffer is detached`);
}

export function isShared(view: AnyNumericArray): boolean {
  return view.buffer instanceof SharedArrayBuffer;
}

/** `view` with the typing every numeric kind shares. */
export function anyKind(view: NumericArray): AnyNumericArray {
  return view as unknown as AnyNumericArray;
}
