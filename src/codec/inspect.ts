/**
 * One pass over a value before it is encoded. It reports whether the value contains a Map, which
 * needs the map-preserving encoding (see msgpack.ts), and rejects what cannot cross threads
 * (functions, symbols, circular structures, iterators, nesting deeper than MAX_DEPTH, ...) with an
 * error that names where the value sits. It also finds every -0, which msgpack would turn into 0,
 * and every array with holes, which msgpack would fill: the value to encode is then a copy with each
 * replaced by a marker (negative-zero.ts, sparse-array-extension.ts), from `takeMarkedCopy`; values
 * marked with `transfer()` are handled there too (transfer.ts).
 *
 * msgpackr alone would turn a Map into a plain object, a function into `undefined` and a generator
 * into `{}` without a word, and overflow the stack on a cycle.
 *
 * The pass also adds up a lower bound of the payload's encoded size and throws PayloadTooLargeError
 * as soon as it passes the limit, so that a value which cannot fit is refused without being
 * encoded: a 300 MB string used to be packed whole (0.5 s) before the size check refused it.
 *
 * The pass runs on every call, so it is split in two. A fast scan keeps no path and no ancestor
 * list; it gives up when it meets something that cannot be sent, a -0, a hole, something that
 * throws when read, or nesting deeper than FAST_DEPTH (which any cycle reaches). Only then does a
 * careful walk run (careful-walk.ts), which tracks the path and the ancestors to tell a deep value
 * from a cycle and to name the culprit.
 */
import { PayloadTooLargeError } from '../errors.js';
import { CarefulWalk } from './careful-walk.js';
import { isNegativeZero } from './negative-zero.js';
import { isOpaque, numberFloor, opaqueFloor } from './sendable.js';
import { markedTarget } from './transfer.js';

export const HAS_MAP = 1;
/** The value holds a -0 or an array with holes: encode `takeMarkedCopy()`. */
export const MARKED = 2;
/** Returned by the fast scan when the careful walk must decide. */
const UNSURE = -1;
/** Returned by the fast scan when the payload cannot fit in maxPayloadBytes. */
const TOO_LARGE = -2;
const FAST_DEPTH = 64;

/** The copy made by the last inspection that reported MARKED. */
let markedCopy: unknown;

/** The payload under inspection (see `startPayload`). */
let payloadRoot = '';
let payloadIndex = -1;
let maxBytes = Infinity;
/** A lower bound of its encoded size, from what was inspected so far. */
let floor = 0;

/**
 * Starts the inspection of a payload, `root` (`root[index]` when `index` is not negative), that
 * may encode to at most `limit` bytes. The `inspectValue` calls that follow add to it.
 */
export function startPayload(root: string, index: number, limit: number): void {
  payloadRoot = root;
  payloadIndex = index;
  maxBytes = limit;
  floor = 0;
}

/**
 * Inspects `value`, whose position is `root[index]` (for example `args[0]`), or `root` alone when
 * `index` is negative. `level` is the nesting level of `value` itself: -1 for a list of arguments,
 * whose items are then the first level. Returns HAS_MAP and MARKED flags; throws EncodeError, or
 * PayloadTooLargeError when the payload (see `startPayload`) certainly encodes to more than its limit.
 */
export function inspectValue(value: unknown, root: string, index = -1, level = 0): number {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'string') {
      // Other primitives take at most 9 bytes, which the final size check is welcome to find.
      floor += value.length + 1;
      if (floor > maxBytes) throw tooLarge();
      return 0;
    }
    if (typeof value === 'function' || typeof value === 'symbol' || isNegativeZero(value)) return walk(value, root, index, level);
    return 0;
  }
  const before = floor;
  let flags: number;
  try {
    flags = scan(value, level);
  } catch {
    // A getter threw, or a Proxy was revoked: the careful walk reads it again and names it.
    flags = UNSURE;
  }
  if (flags === TOO_LARGE) throw tooLarge();
  if (flags !== UNSURE) return flags;
  floor = before;
  return walk(value, root, index, level);
}

/** After `inspectValue` reported MARKED: the value to encode in place of the one inspected. */
export function takeMarkedCopy(): unknown {
  const copy = markedCopy;
  markedCopy = undefined;
  return copy;
}

function walk(value: unknown, root: string, index: number, level: number): number {
  const walker = new CarefulWalk(root, index, level, floor, maxBytes, tooLarge);
  const copy = walker.start(value);
  floor = walker.floor;
  if (walker.marked) markedCopy = copy;
  return (walker.hasMap ? HAS_MAP : 0) | (walker.marked ? MARKED : 0);
}

function tooLarge(atLeast = floor): PayloadTooLargeError {
  const name = payloadIndex < 0 ? payloadRoot : `${payloadRoot}[${payloadIndex}]`;
  return new PayloadTooLargeError(`${name} encodes to at least ${atLeast} bytes, more than maxPayloadBytes (${maxBytes})`);
}

/** Scans an item of a container at `depth`: its flags, UNSURE or TOO_LARGE. */
function scanItem(item: unknown, depth: number): number {
  switch (typeof item) {
    case 'number':
      if (item === 0 && 1 / item < 0) return UNSURE;
      floor += numberFloor(item);
      return 0;
    case 'string':
      floor += item.length + 1;
      return 0;
    case 'object':
      if (item !== null) return scan(item, depth + 1);
      floor += 1;
      return 0;
    case 'function':
    case 'symbol':
      return UNSURE;
    default:
      floor += 1;
      return 0;
  }
}

function scan(value: object, depth: number): number {
  if (depth > FAST_DEPTH) return UNSURE;
  let flags = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      // A hole: the careful walk encodes the array as a SparseArray.
      if (item === undefined && !(i in value)) return UNSURE;
      const result = scanItem(item, depth);
      if (result < 0) return result;
      // Checked as it goes: an array of millions of items is refused once it is known not to fit.
      if (floor > maxBytes) return TOO_LARGE;
      flags |= result;
    }
    return flags;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    for (const key in value) {
      floor += key.length + 1;
      const result = scanItem((value as Record<string, unknown>)[key], depth);
      if (result < 0) return result;
      if (floor > maxBytes) return TOO_LARGE;
      flags |= result;
    }
    return flags;
  }
  if (value instanceof Map) {
    flags = HAS_MAP;
    for (const [key, item] of value as Map<unknown, unknown>) {
      const keyResult = scanItem(key, depth);
      if (keyResult < 0) return keyResult;
      const result = scanItem(item, depth);
      if (result < 0) return result;
      if (floor > maxBytes) return TOO_LARGE;
      flags |= keyResult | result;
    }
    return flags;
  }
  if (value instanceof Set) {
    for (const item of value as Set<unknown>) {
      const result = scanItem(item, depth);
      if (result < 0) return result;
      if (floor > maxBytes) return TOO_LARGE;
      flags |= result;
    }
    return flags;
  }
  if (isOpaque(value)) {
    // Marked with transfer(): the careful walk moves, copies or refuses it.
    if (markedTarget(value) !== undefined) return UNSURE;
    floor += opaqueFloor(value);
    return floor > maxBytes ? TOO_LARGE : 0;
  }
  // Errors and class instances are rare: the careful walk handles them.
  return UNSURE;
}
