/**
 * One pass over a value before it is encoded. It reports whether the value contains a Map, which
 * needs the map-preserving encoding (see msgpack.ts), and rejects what cannot cross threads
 * (functions, symbols, circular structures, iterators, ...) with an error that names where the
 * value sits. It also finds every -0, which msgpack would turn into 0: the value to encode is then
 * a copy with each replaced by a marker (negative-zero.ts), from `takeMarkedCopy`.
 *
 * msgpackr alone would turn a Map into a plain object, a function into `undefined` and a generator
 * into `{}` without a word, and overflow the stack on a cycle.
 *
 * The pass runs on every call, so it is split in two. A fast scan keeps no path and no ancestor
 * list; it gives up when it meets something that cannot be sent, or nesting deeper than
 * FAST_DEPTH (which any cycle reaches). Only then does a careful walk run, which tracks the path and
 * the ancestors to tell a deep value from a cycle and to name the culprit.
 */
import { EncodeError } from '../errors.js';
import { isNegativeZero, NEGATIVE_ZERO } from './negative-zero.js';

export const HAS_MAP = 1;
/** The value holds a -0: encode `takeMarkedCopy()` instead. */
export const HAS_NEGATIVE_ZERO = 2;
/** Returned by the fast scan when the careful walk must decide. */
const UNSURE = -1;
const FAST_DEPTH = 64;

/** The copy made by the last inspection that reported HAS_NEGATIVE_ZERO. */
let markedCopy: unknown;

/**
 * Inspects `value`, whose position is `root[index]` (for example `args[0]`), or `root` alone when
 * `index` is negative. Returns HAS_MAP and HAS_NEGATIVE_ZERO flags; throws EncodeError.
 */
export function inspectValue(value: unknown, root: string, index = -1): number {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol' || isNegativeZero(value)) return walk(value, root, index);
    return 0;
  }
  const flags = scan(value, 0);
  return flags === UNSURE ? walk(value, root, index) : flags;
}

/** After `inspectValue` reported HAS_NEGATIVE_ZERO: the value to encode in place of the one inspected. */
export function takeMarkedCopy(): unknown {
  const copy = markedCopy;
  markedCopy = undefined;
  return copy;
}

function walk(value: unknown, root: string, index: number): number {
  const walker = new Walker(root, index);
  const copy = walker.start(value);
  if (walker.flags & HAS_NEGATIVE_ZERO) markedCopy = copy;
  return walker.flags;
}

/** Objects msgpackr would silently turn into `{}`: refused rather than lost. */
const UNSENDABLE: [new (...args: never[]) => object, string][] = [
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
const ASYNC_ITERATOR_PROTOTYPE: object = Object.getPrototypeOf(
  Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})())),
);

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

function isPrimitive(value: unknown): boolean {
  const type = typeof value;
  return type !== 'object' && type !== 'function' && type !== 'symbol';
}

function scan(value: unknown, depth: number): number {
  if (isPrimitive(value) || value === null) return 0;
  if (typeof value !== 'object' || depth > FAST_DEPTH) return UNSURE;
  let flags = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (isPrimitive(item)) {
        if (isNegativeZero(item)) return UNSURE;
        continue;
      }
      const result = scan(item, depth + 1);
      if (result === UNSURE) return UNSURE;
      flags |= result;
    }
    return flags;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    for (const key in value) {
      const item: unknown = (value as Record<string, unknown>)[key];
      if (isPrimitive(item)) {
        if (isNegativeZero(item)) return UNSURE;
        continue;
      }
      const result = scan(item, depth + 1);
      if (result === UNSURE) return UNSURE;
      flags |= result;
    }
    return flags;
  }
  if (isOpaque(value)) return 0;
  // Maps, Sets, Errors and class instances are rare: the careful walk handles them.
  return UNSURE;
}

/** Values encoded whole (by msgpackr or our extensions), whose contents need no inspection. */
function isOpaque(value: object): boolean {
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

/**
 * The careful walk. `start` returns the value to encode: the value itself, or a copy in which each
 * -0 is replaced by NEGATIVE_ZERO (only the containers on the way to a -0 are copied). Containers
 * are copied as msgpack will see them: arrays as arrays, other objects as plain objects of their
 * own enumerable properties, Maps, Sets and Errors as themselves.
 */
class Walker {
  flags = 0;
  /** Objects on the path from the root to the current value, to detect cycles. */
  private readonly ancestors: object[] = [];
  /** Property keys on that path, for the error message. */
  private readonly keys: (string | number)[] = [];

  constructor(
    private readonly root: string,
    index: number,
  ) {
    if (index >= 0) this.keys.push(index);
  }

  start(value: unknown): unknown {
    try {
      return this.visit(value);
    } catch (error) {
      if (error instanceof RangeError) {
        // The walk recursed until the stack ran out: msgpackr could not encode it either.
        throw new EncodeError(this.path(), `nested more than ${this.keys.length} levels deep, too deep to encode`, error);
      }
      throw error;
    }
  }

  private visit(value: unknown): unknown {
    switch (typeof value) {
      case 'object':
        return value === null ? value : this.visitObject(value);
      case 'number':
        if (!isNegativeZero(value)) return value;
        this.flags |= HAS_NEGATIVE_ZERO;
        return NEGATIVE_ZERO;
      case 'function':
        throw new EncodeError(this.path(), 'functions cannot be sent between threads (only their results can)');
      case 'symbol':
        throw new EncodeError(this.path(), 'symbols cannot be sent between threads');
      default:
        return value;
    }
  }

  private visitObject(value: object): object {
    if (isOpaque(value)) return value;
    const reason = refusal(value);
    if (reason !== undefined) throw new EncodeError(this.path(), reason);
    if (this.ancestors.includes(value)) {
      throw new EncodeError(this.path(), 'circular structures cannot be sent between threads');
    }
    this.ancestors.push(value);
    let result: object;
    if (Array.isArray(value)) result = this.visitArray(value);
    else if (value instanceof Map) result = this.visitMap(value);
    else if (value instanceof Set) result = this.visitSet(value);
    else if (value instanceof Error) result = this.visitError(value);
    else result = this.visitProperties(value);
    this.ancestors.pop();
    return result;
  }

  private visitArray(value: unknown[]): unknown[] {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = this.child(i, value[i]);
      if (!Object.is(item, value[i])) (copy ??= Array.from(value))[i] = item;
    }
    return copy ?? value;
  }

  private visitMap(value: Map<unknown, unknown>): Map<unknown, unknown> {
    this.flags |= HAS_MAP;
    const entries: [unknown, unknown][] = [];
    let changed = false;
    let i = 0;
    for (const [key, entry] of value) {
      const keyOut = this.child(`<key ${i}>`, key);
      const entryOut = this.child(typeof key === 'string' || typeof key === 'number' ? key : `<value ${i}>`, entry);
      changed ||= !Object.is(keyOut, key) || !Object.is(entryOut, entry);
      entries.push([keyOut, entryOut]);
      i++;
    }
    return changed ? new Map(entries) : value;
  }

  private visitSet(value: Set<unknown>): Set<unknown> {
    const entries: unknown[] = [];
    let changed = false;
    let i = 0;
    for (const entry of value) {
      const out = this.child(`<entry ${i++}>`, entry);
      changed ||= !Object.is(out, entry);
      entries.push(out);
    }
    return changed ? new Set(entries) : value;
  }

  /** Own enumerable properties, as msgpack writes any object it has no extension for. */
  private visitProperties(value: object): object {
    const keys = Object.keys(value);
    const values: unknown[] = [];
    let changed = false;
    for (const key of keys) {
      const item = (value as Record<string, unknown>)[key];
      const out = this.child(key, item);
      changed ||= !Object.is(out, item);
      values.push(out);
    }
    // msgpackr writes what a class's toJSON returns instead of the properties: leave such objects be.
    if (!changed || typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
    // No prototype: a key named "__proto__" stays an own property.
    const copy = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) copy[keys[i]] = values[i];
    return copy;
  }

  /** What error-extension.ts writes: own properties, `cause` and an AggregateError's `errors`. */
  private visitError(value: Error): Error {
    const props = this.visitProperties(value);
    const cause = value.cause === undefined ? undefined : this.child('cause', value.cause);
    const errors = value instanceof AggregateError ? this.child('errors', value.errors) : undefined;
    if (props === value && Object.is(cause, value.cause) && (errors === undefined || errors === (value as AggregateError).errors)) {
      return value;
    }
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error;
    const hidden = (key: string, item: unknown) => Object.defineProperty(copy, key, { value: item, writable: true, configurable: true });
    hidden('name', value.name);
    hidden('message', value.message);
    hidden('stack', value.stack);
    if (cause !== undefined) hidden('cause', cause);
    if (errors !== undefined) hidden('errors', errors);
    for (const [key, item] of Object.entries(props)) {
      Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }

  private child(key: string | number, value: unknown): unknown {
    this.keys.push(key);
    const out = this.visit(value);
    this.keys.pop();
    return out;
  }

  private path(): string {
    let path = this.root;
    for (const key of this.keys) {
      path += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    }
    return path;
  }
}
