/**
 * The careful walk of inspect.ts, which runs when the fast scan cannot decide: it tracks the path
 * and the ancestors, to tell a deep value from a cycle and to name the culprit in its error, and
 * builds the copy to encode when the value holds a -0 or an array with holes.
 */
import { describe, EncodeError } from '../errors.js';
import { MOVED_FLOOR, movedOrCopied, transferRefusal } from './moved-extension.js';
import { isNegativeZero, NEGATIVE_ZERO } from './negative-zero.js';
import { ARRAY, ERROR, kindOf, MAP, OPAQUE, opaqueFloor, primitiveFloor, SET } from './sendable.js';
import { SparseArray } from './sparse-array-extension.js';
import { markedTarget } from './transfer.js';

/**
 * How many levels of arrays, objects, Maps, Sets and Errors a value may nest, the argument or result
 * itself being the first. msgpackr packs and unpacks recursively, so the depth it manages depends on
 * the stack left: 1,400–8,700 levels measured on Node 22 and 24, Bun and Deno, structuredClone
 * 1,600 on Node. A fixed limit below all of them refuses the same values on every runtime, on
 * either side, instead of whatever the stack allows.
 */
export const MAX_DEPTH = 1000;

/** Path segments shown at each end of a long path in an error message. */
const PATH_EDGE = 8;
/** Characters of a property name shown in an error message. */
const KEY_CHARS = 40;
/** The path segment of what a toJSON() returned. */
const TO_JSON = Symbol('toJSON()');
type PathKey = string | number | typeof TO_JSON;

/**
 * The careful walk. `start` returns the value to encode: the value itself, or a copy in which each
 * -0 is replaced by NEGATIVE_ZERO and each array with holes by a SparseArray (only the containers on
 * the way to them are copied), and each value marked with `transfer()` that moves by a `Moved`
 * (moved-extension.ts). Containers are copied as msgpack will see them: arrays as arrays,
 * other objects as plain objects of their own enumerable properties, Maps, Sets and Errors as
 * themselves. Whatever the value throws when read (a getter, a revoked Proxy) becomes an
 * EncodeError naming where, with the thrown value as its `cause`.
 */
export class CarefulWalk {
  /** The value holds a Map (inspect.ts's HAS_MAP). */
  hasMap = false;
  /** `start` returned a copy, to be encoded in place of the value (inspect.ts's MARKED). */
  marked = false;
  /** Objects on the path from the root to the current value, to detect cycles. */
  private readonly ancestors: object[] = [];
  /** Property keys on that path, for the error message. */
  private readonly keys: PathKey[] = [];

  constructor(
    private readonly root: string,
    index: number,
    /** Nesting level of the root value (see `inspectValue`). */
    private readonly level: number,
    /** A lower bound of the payload's encoded size so far, which the walk adds to. */
    public floor: number,
    private readonly maxBytes: number,
    private readonly tooLarge: (floor: number) => Error,
  ) {
    if (index >= 0) this.keys.push(index);
  }

  start(value: unknown): unknown {
    try {
      return this.visit(value);
    } catch (error) {
      if (error instanceof RangeError) {
        // The stack ran out before MAX_DEPTH: the caller was itself deep in recursion.
        throw new EncodeError(this.path(), `nested ${this.ancestors.length} levels deep, more than the stack left here allows`, error);
      }
      throw error;
    }
  }

  private visit(value: unknown): unknown {
    switch (typeof value) {
      case 'object':
        return value === null ? this.primitive(value) : this.visitObject(value);
      case 'number':
        if (!isNegativeZero(value)) return this.primitive(value);
        this.marked = true;
        return NEGATIVE_ZERO;
      case 'function':
        throw new EncodeError(this.path(), 'functions cannot be sent between threads (only their results can)');
      case 'symbol':
        throw new EncodeError(this.path(), 'symbols cannot be sent between threads');
      default:
        return this.primitive(value);
    }
  }

  private primitive(value: unknown): unknown {
    this.floor += primitiveFloor(value);
    if (this.floor > this.maxBytes) throw this.tooLarge(this.floor);
    return value;
  }

  private visitObject(value: object): unknown {
    if (this.ancestors.length + this.level >= MAX_DEPTH) {
      throw new EncodeError(this.path(), `nested more than ${MAX_DEPTH} levels deep, the limit for values sent between threads`);
    }
    const target = markedTarget(value);
    if (target !== undefined) return this.visitMarked(value, target);
    let kind: number | string;
    try {
      kind = kindOf(value);
    } catch (error) {
      throw this.unreadable(error);
    }
    if (typeof kind === 'string') throw new EncodeError(this.path(), kind);
    if (kind === OPAQUE) {
      this.floor += opaqueFloor(value);
      if (this.floor > this.maxBytes) throw this.tooLarge(this.floor);
      return value;
    }
    if (this.ancestors.includes(value)) {
      throw new EncodeError(this.path(), 'circular structures cannot be sent between threads');
    }
    this.ancestors.push(value);
    let result: unknown;
    if (kind === ARRAY) result = this.visitArray(value as unknown[]);
    else if (kind === MAP) result = this.visitMap(value as Map<unknown, unknown>);
    else if (kind === SET) result = this.visitSet(value as Set<unknown>);
    else if (kind === ERROR) result = this.visitError(value as Error);
    else result = this.visitJsonOf(value) ?? this.visitProperties(value);
    this.ancestors.pop();
    return result;
  }

  /** A value marked with `transfer()`: moved (a `Moved` in the copy), copied, or refused. */
  private visitMarked(value: object, target: NonNullable<ReturnType<typeof markedTarget>>): unknown {
    const refused = transferRefusal(target);
    if (refused !== undefined) throw new EncodeError(this.path(), refused);
    const out = movedOrCopied(value, target);
    if (out !== value) this.marked = true;
    this.floor += out === value ? opaqueFloor(value) : MOVED_FLOOR;
    if (this.floor > this.maxBytes) throw this.tooLarge(this.floor);
    return out;
  }

  /**
   * msgpackr writes what a class instance's toJSON returns instead of its properties: that value,
   * visited in its place (so that it is checked and carried faithfully like any other), or
   * undefined when msgpackr writes the properties. toJSON runs once, here: msgpackr is given its
   * result.
   */
  private visitJsonOf(value: object): unknown {
    let prototype: object | null;
    try {
      prototype = Object.getPrototypeOf(value) as object | null;
    } catch (error) {
      throw this.unreadable(error);
    }
    if (prototype === Object.prototype || prototype === null) return undefined;
    const toJSON = this.read(value, 'toJSON');
    if (typeof toJSON !== 'function') return undefined;
    let json: unknown;
    try {
      json = (toJSON as () => unknown).call(value);
    } catch (error) {
      throw new EncodeError(this.path(), `its toJSON() threw ${describe(error)}`, error);
    }
    if (json === value) return undefined;
    this.marked = true;
    return this.child(TO_JSON, json);
  }

  private visitArray(value: unknown[]): object {
    const length = this.read(value, 'length') as number;
    const items: unknown[] = [];
    let changed = false;
    for (let i = 0; i < length; i++) {
      const item = this.read(value, i);
      if (item === undefined && !this.has(value, i)) return this.visitSparse(value, length, items);
      const out = this.child(i, item);
      changed ||= !Object.is(out, item);
      items.push(out);
    }
    return changed ? items : value;
  }

  /**
   * An array with a hole at `dense.length`, after the items before it (visited: `dense`). Its other
   * items are found from its own keys, so that the cost follows the items present, not the length.
   */
  private visitSparse(value: unknown[], length: number, dense: unknown[]): SparseArray {
    const fields: unknown[] = [length];
    if (dense.length > 0) fields.push(0, dense);
    let run: unknown[] = [];
    let next = -1;
    for (const key of this.ownKeys(value)) {
      const i = Number(key);
      // Indices only (msgpack drops other keys of an array), and only those not visited yet.
      if (!(Number.isInteger(i) && i > dense.length && i < length && String(i) === key)) continue;
      if (i !== next) {
        run = [];
        fields.push(i, run);
        this.floor += 2;
      }
      run.push(this.child(i, this.read(value, i)));
      next = i + 1;
    }
    this.marked = true;
    return new SparseArray(fields);
  }

  private visitMap(value: Map<unknown, unknown>): Map<unknown, unknown> {
    this.hasMap = true;
    const entries = this.entries(value) as [unknown, unknown][];
    let changed = false;
    for (let i = 0; i < entries.length; i++) {
      const [key, entry] = entries[i];
      const keyOut = this.child(`<key ${i}>`, key);
      const entryOut = this.child(typeof key === 'string' || typeof key === 'number' ? key : `<value ${i}>`, entry);
      changed ||= !Object.is(keyOut, key) || !Object.is(entryOut, entry);
      entries[i] = [keyOut, entryOut];
    }
    return changed ? new Map(entries) : value;
  }

  private visitSet(value: Set<unknown>): Set<unknown> {
    const entries = this.entries(value);
    let changed = false;
    for (let i = 0; i < entries.length; i++) {
      const out = this.child(`<entry ${i}>`, entries[i]);
      changed ||= !Object.is(out, entries[i]);
      entries[i] = out;
    }
    return changed ? new Set(entries) : value;
  }

  /** Own enumerable properties, as msgpack writes any object it has no extension for. */
  private visitProperties(value: object): object {
    const keys = this.ownKeys(value);
    const values: unknown[] = [];
    let changed = false;
    for (const key of keys) {
      this.floor += key.length + 1;
      const item = this.read(value, key);
      const out = this.child(key, item);
      changed ||= !Object.is(out, item);
      values.push(out);
    }
    if (!changed) return value;
    // No prototype: a key named "__proto__" stays an own property.
    const copy = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) copy[keys[i]] = values[i];
    return copy;
  }

  /** What error-extension.ts writes: own properties, `cause` and an AggregateError's `errors`. */
  private visitError(value: Error): Error {
    const props = this.visitProperties(value);
    const cause = this.read(value, 'cause');
    const causeOut = cause === undefined ? undefined : this.child('cause', cause);
    const errors = value instanceof AggregateError ? this.read(value, 'errors') : undefined;
    const errorsOut = errors === undefined ? undefined : this.child('errors', errors);
    if (props === value && Object.is(causeOut, cause) && errorsOut === errors) return value;
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error;
    const hidden = (key: string, item: unknown) => Object.defineProperty(copy, key, { value: item, writable: true, configurable: true });
    hidden('name', this.read(value, 'name'));
    hidden('message', this.read(value, 'message'));
    hidden('stack', this.read(value, 'stack'));
    if (causeOut !== undefined) hidden('cause', causeOut);
    if (errorsOut !== undefined) hidden('errors', errorsOut);
    for (const [key, item] of Object.entries(props)) {
      Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }

  private child(key: PathKey, value: unknown): unknown {
    this.keys.push(key);
    const out = this.visit(value);
    this.keys.pop();
    return out;
  }

  // The value's own code can run, and throw, wherever it is read: in a getter or a Proxy trap.

  private read(container: object, key: string | number): unknown {
    try {
      return (container as Record<string | number, unknown>)[key];
    } catch (error) {
      this.keys.push(key);
      throw this.unreadable(error);
    }
  }

  private has(array: unknown[], index: number): boolean {
    try {
      return index in array;
    } catch (error) {
      this.keys.push(index);
      throw this.unreadable(error);
    }
  }

  private ownKeys(value: object): string[] {
    try {
      return Object.keys(value);
    } catch (error) {
      throw this.unreadable(error);
    }
  }

  private entries(value: Iterable<unknown>): unknown[] {
    try {
      return Array.from(value);
    } catch (error) {
      throw this.unreadable(error);
    }
  }

  private unreadable(error: unknown): EncodeError {
    return new EncodeError(this.path(), `reading it threw ${describe(error)}`, error);
  }

  /** The path to the current value; a long one keeps its first and last PATH_EDGE segments. */
  private path(): string {
    const keys = this.keys;
    if (keys.length <= 2 * PATH_EDGE + 1) return this.root + keys.map(segment).join('');
    const head = keys.slice(0, PATH_EDGE).map(segment).join('');
    const tail = keys.slice(-PATH_EDGE).map(segment).join('');
    return `${this.root}${head}…(${keys.length - 2 * PATH_EDGE} more)…${tail}`;
  }
}

function segment(key: PathKey): string {
  if (key === TO_JSON) return '.toJSON()';
  if (typeof key === 'number') return `[${key}]`;
  if (key.length > KEY_CHARS) return `[${JSON.stringify(key.slice(0, KEY_CHARS))}…]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
