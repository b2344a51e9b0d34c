/**
 * One pass over a value before it is encoded. It rejects what cannot cross threads (functions,
 * symbols, circular structures) with an error that names where the value sits, and reports whether
 * the value contains a Map, which needs the map-preserving encoding (see msgpack.ts).
 *
 * msgpackr alone would turn a function into `undefined` and a Map into a plain object without a
 * word, and overflow the stack on a cycle.
 */
import { EncodeError } from '../errors.js';

export const HAS_MAP = 1;

/**
 * Inspects `value`, whose position is `root[index]` (for example `args[0]`), or `root` alone when
 * `index` is negative. The path is only assembled when something is wrong.
 */
export function inspectValue(value: unknown, root: string, index = -1): number {
  if (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol') return 0;
  // A getter met during the walk may itself send a value somewhere: give it a walker of its own.
  const current = shared.busy ? new Walker() : shared;
  return current.start(value, root, index);
}

class Walker {
  /** Objects on the path from the root to the current value, to detect cycles. */
  private readonly ancestors: object[] = [];
  /** Property keys on that path, turned into a readable path only when something is wrong. */
  private readonly keys: (string | number)[] = [];
  private root = '';
  busy = false;

  start(value: unknown, root: string, index: number): number {
    this.ancestors.length = 0;
    this.keys.length = 0;
    this.root = root;
    if (index >= 0) this.keys.push(index);
    this.busy = true;
    try {
      return this.visit(value);
    } finally {
      this.busy = false;
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
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) {
      return 0;
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

/** Reused by every inspection on this thread, so the common case allocates nothing. */
const shared = new Walker();
