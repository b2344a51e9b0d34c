// Inputs for the parallel-sort tests: typed arrays of every numeric kind, built from a seed in one of
// the shapes a sort must get right (random, sorted, reversed, all equal, few distinct values, and
// for floats NaN, -0, +0 and infinities mixed in), at sizes around the sort's thresholds.
import fc from 'fast-check';

export const KINDS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

export type Kind = (typeof KINDS)[number];
export type Numeric = InstanceType<Kind>;

export const SHAPES = ['random', 'sorted', 'reversed', 'equal', 'few', 'specials'] as const;
export type Shape = (typeof SHAPES)[number];

/**
 * Sizes around the sort's thresholds (32,768 items: parallel from there; leaves of 16,384 or more;
 * one more level per doubling), small ones, and any size up to a few leaves.
 */
export const sizes = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 32_767, 32_768, 32_769, 65_535, 65_536, 65_537, 131_071, 131_073),
  fc.integer({ min: 0, max: 2_000 }),
  fc.integer({ min: 32_700, max: 140_000 }),
);

/** A small deterministic generator (mulberry32), so that a failing case is rebuilt from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIALS = [Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

/** `count` values of `kind` in `shape`, in shared memory or not. */
export function makeValues(kind: Kind, count: number, shape: Shape, seed: number, shared: boolean): Numeric {
  const next = random(seed);
  const bytes = count * kind.BYTES_PER_ELEMENT;
  const construct = kind as unknown as new (buffer: ArrayBufferLike) => Numeric;
  const view = new construct(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const isBig = view instanceof BigInt64Array || view instanceof BigUint64Array;
  const isFloat = view instanceof Float32Array || view instanceof Float64Array;
  const few = [next(), next(), next()].map((x) => Math.floor(x * 2 ** 31) - 2 ** 30);
  const one = (i: number): number => {
    if (shape === 'equal') return few[0];
    if (shape === 'few') return few[i % 3];
    if (shape === 'specials' && isFloat && next() < 0.3) return SPECIALS[Math.floor(next() * SPECIALS.length)];
    return isFloat ? (next() - 0.5) * 2 ** (next() * 60) : Math.floor(next() * 2 ** 32) - 2 ** 31;
  };
  for (let i = 0; i < count; i++) {
    const value = one(i);
    if (isBig) (view as BigInt64Array)[i] = BigInt.asIntN(64, BigInt(Math.trunc(value)) * 0x1_0000_0001n);
    else (view as Float64Array)[i] = value;
  }
  if (shape === 'sorted' || shape === 'reversed') (view as Float64Array).sort();
  if (shape === 'reversed') (view as Float64Array).reverse();
  return view;
}

/** Where `actual` differs from `expected` (Object.is: NaN equals NaN, -0 differs from +0), or -1. */
export function firstDifference(actual: ArrayLike<unknown>, expected: ArrayLike<unknown>): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) return i;
  return -1;
}

/** `TypedArray.prototype.sort` on a copy: the answer a parallel sort must give. */
export function sortedCopy(view: Numeric): Numeric {
  return (view.slice() as Float64Array).sort() as Numeric;
}

export const inputs = fc.record({
  kind: fc.constantFrom(...KINDS),
  count: sizes,
  shape: fc.constantFrom(...SHAPES),
  seed: fc.integer(),
  shared: fc.boolean(),
});
