/**
 * One pass over a value before it is encoded. It reports whether the value contains a Map, which
 * needs the map-preserving encoding (see msgpack.ts), and rejects what cannot cross threads
 * (functions, symbols, circular structures) with an error that names where the value sits.
 *
 * msgpackr alone would turn a Map into a plain object and a function into `undefined` without a
 * word, and overflow the stack on a cycle.
 *
 * The pass runs on every call, so it is split in two. A fast scan keeps no path and no ancestor
 * list; it gives up when it meets something that cannot be sent, or nesting deeper than
 * FAST_DEPTH (which any cycle reaches). Only then does a careful walk run, which tracks the path and
 * the ancestors to tell a deep value from a cycle and to name the culprit.
 */
import { EncodeError } from '../errors.js';

export const HAS_MAP = 1;
/** Returned by the fast scan when the careful walk must decide. */
const UNSURE = -1;
const FAST_DEPTH = 64;

/**
 * Inspects `value`, whose position is `root[index]` (for example `args[0]`), or `root` alone when
 * `index` is negative. Returns HAS_MAP or 0; throws EncodeError.
 */
export function inspectValue(value: unknown, root: string, index = -1): number {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') return new Walker(root, index).start(value);
    return 0;
  }
  const flags = scan(value, 0);
  return flags === UNSURE ? new Walker(root, index).start(value) : flags;
}

/** Objects msgpackr would silently turn into `{}`: refused rather than lost. */
const UNSENDABLE: [new (...args: never[]) => object, string][] = [
  [SharedArrayBuffer, 'a SharedArrayBuffer cannot be copied between threads; send a typed array over it'],
  [WeakMap, 'a WeakMap cannot be sent between threads'],
  [WeakSet, 'a WeakSet cannot be sent between threads'],
  [WeakRef, 'a WeakRef cannot be sent between threads'],
  [Promise, 'a promise cannot be sent between threads; send its value'],
];

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
      if (isPrimitive(item)) continue;
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
      if (isPrimitive(item)) continue;
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

/** Values msgpackr encodes whole, whose contents need no inspection. */
function isOpaque(value: object): boolean {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp;
}

class Walker {
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

  start(value: unknown): number {
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

  private visit(value: unknown): number {
    switch (typeof value) {
      case 'object':
        return value === null ? 0 : this.visitObject(value);
      case 'function':
        throw new EncodeError(this.path(), 'functions cannot be sent between threads (only their results can)');
      case 'symbol':
        throw new EncodeError(this.path(), 'symbols cannot be sent between threads');
      default:
        return 0;
    }
  }

  private visitObject(value: object): number {
    if (isOpaque(value)) return 0;
    for (const [type, reason] of UNSENDABLE) {
      if (value instanceof type) throw new EncodeError(this.path(), reason);
    }
    if (this.ancestors.includes(value)) {
      throw new EncodeError(this.path(), 'circular structures cannot be sent between threads');
    }
    this.ancestors.push(value);
    let flags = 0;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) flags |= this.child(i, value[i]);
    } else if (value instanceof Map) {
      flags |= HAS_MAP;
      let i = 0;
      for (const [key, entry] of value) {
        flags |= this.child(`<key ${i}>`, key);
        flags |= this.child(typeof key === 'string' || typeof key === 'number' ? key : `<value ${i}>`, entry);
        i++;
      }
    } else if (value instanceof Set) {
      let i = 0;
      for (const entry of value) flags |= this.child(`<entry ${i++}>`, entry);
    } else {
      for (const key of Object.keys(value)) {
        flags |= this.child(key, (value as Record<string, unknown>)[key]);
      }
      if (value instanceof Error && value.cause !== undefined) flags |= this.child('cause', value.cause);
      if (value instanceof AggregateError) flags |= this.child('errors', value.errors);
    }
    this.ancestors.pop();
    return flags;
  }

  private child(key: string | number, value: unknown): number {
    this.keys.push(key);
    const flags = this.visit(value);
    this.keys.pop();
    return flags;
  }

  private path(): string {
    let path = this.root;
    for (const key of this.keys) {
      path += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
    }
    return path;
  }
}
