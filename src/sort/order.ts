/**
 * The orders the parallel sorts merge by. Each is `before(x, y)`, "x sorts strictly before y": a
 * merge takes the right run's item first only when it is strictly before the left's, which keeps
 * equal items in their order (stability). The leaves of a sort are sorted natively, with the
 * comparison `leafCompare` (none for the value order: V8's C++ path).
 */
import type { MergeTest } from './merge.js';
import type { AnyNumericArray } from './sortable.js';

/** Anything a sort reads items from by index: a typed array, or the items of a plain array. */
export type Items = ArrayLike<unknown>;

export interface Order {
  before(x: unknown, y: unknown): boolean;
  /** The comparison for `Array.prototype.sort`-style leaves; undefined for the native value order. */
  leafCompare: ((x: never, y: never) => number) | undefined;
  /** Whether NaN can occur and must go last (the value order of a float array). */
  nanLast: boolean;
  /** How a merge tests the order: `before` written into the merge for the value orders, called otherwise. */
  test: MergeTest;
}

/**
 * `TypedArray.prototype.sort`'s order for items other than NaN: numbers and bigints by `<`, and
 * -0 before +0 (`1 / -0` is -Infinity). Callers keep NaN out (see `nanStart`).
 */
function valueBefore(x: unknown, y: unknown): boolean {
  return (x as number) < (y as number) || (x === 0 && y === 0 && 1 / x < 1 / y);
}

/** The value order of integers (and bigints), which have neither NaN nor -0: a cheaper test. */
function integerBefore(x: unknown, y: unknown): boolean {
  return (x as number) < (y as number);
}

/** The value order of typed array `view`, as `TypedArray.prototype.sort` sorts without a comparator. */
export function valueOrder(view: AnyNumericArray): Order {
  const float = view instanceof Float64Array || view instanceof Float32Array;
  return { before: float ? valueBefore : integerBefore, leafCompare: undefined, nanLast: float, test: float ? 'float' : 'integer' };
}

/**
 * The order of a compare task over the items themselves (a typed array sorted with `parSortBy`): a
 * negative result means "before"; zero, NaN or anything else not below zero keeps the two in order,
 * as `Array.prototype.sort` does.
 */
export function compareOrder(compare: (a: unknown, b: unknown) => unknown): Order {
  return {
    before: (x, y) => (compare(x, y) as number) < 0,
    leafCompare: compare as (x: never, y: never) => number,
    nanLast: false,
    test: 'call',
  };
}

/**
 * The order of a compare task over `items`, for a sort of their indices: ties (zero, NaN) go by
 * index, which makes the order total, so the result is the stable one whatever the merge does.
 */
export function indexOrder(compare: (a: unknown, b: unknown) => unknown, items: Items): Order {
  const rank = (i: number, j: number): number => {
    const result = compare(items[i], items[j]) as number;
    return result < 0 ? -1 : result > 0 ? 1 : i - j;
  };
  return {
    before: (i, j) => rank(i as number, j as number) < 0,
    leafCompare: rank as (x: never, y: never) => number,
    nanLast: false,
    test: 'call',
  };
}

/**
 * Where the NaNs at the end of the sorted run `[lo, hi)` start (`hi` if there are none): a value
 * sort puts them last, so "is NaN" is false then true along the run.
 */
export function nanStart(run: AnyNumericArray, lo: number, hi: number): number {
  if (hi === lo || !Number.isNaN(run[hi - 1])) return hi;
  let low = lo;
  let high = hi - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (!Number.isNaN(run[mid])) low = mid + 1;
    else high = mid;
  }
  return low;
}
