/**
 * What may cross threads, and what it costs at least: the objects msgpack would silently turn into
 * something else (refused instead), the values it encodes whole, how the careful walk
 * (careful-walk.ts) treats each kind of object, and the fewest bytes a value encodes to (for the
 * early PayloadTooLargeError).
 */
import { MessagePort } from 'node:worker_threads';

/** The fewest bytes msgpackr writes for a number (pack.js): small integers take one byte, non-integers nine. */
export function numberFloor(value: number): number {
  if (value >>> 0 === value) return value < 0x80 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : 5;
  if (value >> 0 === value) return value >= -0x20 ? 1 : value >= -0x80 ? 2 : value >= -0x8000 ? 3 : 5;
  return 9;
}

/** The fewest bytes a primitive encodes to; a string takes at least a byte per UTF-16 unit. */
export function primitiveFloor(value: unknown): number {
  if (typeof value === 'number') return numberFloor(value);
  return typeof value === 'string' ? value.length + 1 : 1;
}

/** The fewest bytes a value that `isOpaque` accepts encodes to. A view over shared memory is a reference. */
export function opaqueFloor(value: object): number {
  if (ArrayBuffer.isView(value)) return value.buffer instanceof SharedArrayBuffer ? 1 : value.byteLength;
  return value instanceof ArrayBuffer ? value.byteLength : 1;
}

/** Objects msgpackr would silently turn into `{}`: refused rather than lost. */
const UNSENDABLE: [new (...args: never[]) => object, string][] = [
  [MessagePort, 'a MessagePort cannot be copied between threads; move it with transfer(port)'],
  [SharedArrayBuffer, 'a SharedArrayBuffer cannot be copied between threads; send a typed array over it'],
  [WeakMap, 'a WeakMap cannot be sent between threads'],
  [WeakSet, 'a WeakSet cannot be sent between threads'],
  [WeakRef, 'a WeakRef cannot be sent between threads'],
  [Promise, 'a promise cannot be sent between threads; send its value'],
  [FinalizationRegistry, 'a FinalizationRegistry cannot be sent between threads'],
  [Symbol as unknown as new () => object, 'symbols cannot be sent between threads'],
];

/** Prototypes shared by every built-in iterator and generator, sync and async. */
const ITERATOR_PROTOTYPE: object = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
const ASYNC_ITERATOR_PROTOTYPE: object = Object.getPrototypeOf(Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})())));

/** Why `value` cannot be sent, or undefined. */
function refusal(value: object): string | undefined {
  for (const [type, reason] of UNSENDABLE) if (value instanceof type) return reason;
  // Their position lives in internal state msgpack cannot see: they would arrive as `{}`.
  if (Object.prototype.isPrototypeOf.call(ITERATOR_PROTOTYPE, value)) {
    return 'an iterator or generator cannot be sent between threads (its state stays behind); send its values, e.g. [...iterator]';
  }
  if (Object.prototype.isPrototypeOf.call(ASYNC_ITERATOR_PROTOTYPE, value)) {
    return 'an async iterator or generator cannot be sent between threads; send its values';
  }
  return undefined;
}

/** Values encoded whole (by msgpackr or our extensions), whose contents need no inspection. */
export function isOpaque(value: object): boolean {
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Number ||
    value instanceof String ||
    value instanceof Boolean ||
    value instanceof BigInt
  );
}

export const OPAQUE = 0;
export const ARRAY = 1;
export const MAP = 2;
export const SET = 3;
export const ERROR = 4;
const OBJECT = 5;

/** How the careful walk handles `value`: one of the kinds above, or the reason it is refused. */
export function kindOf(value: object): number | string {
  if (isOpaque(value)) return OPAQUE;
  const reason = refusal(value);
  if (reason !== undefined) return reason;
  if (Array.isArray(value)) return ARRAY;
  if (value instanceof Map) return MAP;
  if (value instanceof Set) return SET;
  return value instanceof Error ? ERROR : OBJECT;
}
