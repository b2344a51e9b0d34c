/**
 * Sequential pieces of the parallel merge (docs/internals/sort.md): merging two sorted runs into a
 * destination, and finding where to cut them so that two merges can run side by side (Rayon's
 * par_merge: cut the longer run at its middle, binary-search the other).
 */
import type { AnyNumericArray } from './sortable.js';

type Before = (x: unknown, y: unknown) => boolean;

/** Merges sorted runs `src[a0, a1)` and `src[b0, b1)` into `dst` from `at`, the left run's item first on a tie. */
export type MergeRuns = (
  src: AnyNumericArray,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  dst: AnyNumericArray,
  at: number,
  before: Before,
) => void;

/** How a merge tests "right before left": inlined for the value orders, a call of `before` otherwise. */
export type MergeTest = 'integer' | 'float' | 'call';

const RIGHT_FIRST: Record<MergeTest, string> = {
  integer: 'right < left',
  // -0 before +0, as the value order says (order.ts); NaNs are kept out of the merge.
  float: 'right < left || (right === 0 && left === 0 && 1 / right < 1 / left)',
  call: 'before(right, left)',
};

const merges = new Map<string, MergeRuns>();

/**
 * The merge for arrays of `kind` (as `Object.prototype.toString` names them) and order test `test`:
 * a copy of its own, so that its element reads and writes and its test stay monomorphic. One merge
 * shared by every kind and order ran at about 10 ns an item, as slow as the leaf sorts it follows.
 */
export function mergeFor(kind: string, test: MergeTest): MergeRuns {
  const key = `${kind}|${test}`;
  let merge = merges.get(key);
  if (merge === undefined) {
    merge = new Function(
      'src',
      'a0',
      'a1',
      'b0',
      'b1',
      'dst',
      'at',
      'before',
      `'use strict';
      let i = a0;
      let j = b0;
      let k = at;
      if (i < a1 && j < b1) {
        let left = src[i];
        let right = src[j];
        for (;;) {
          if (${RIGHT_FIRST[test]}) {
            dst[k++] = right;
            if (++j === b1) break;
            right = src[j];
          } else {
            dst[k++] = left;
            if (++i === a1) break;
            left = src[i];
          }
        }
      }
      if (i < a1) dst.set(src.subarray(i, a1), k);
      else if (j < b1) dst.set(src.subarray(j, b1), k);`,
    ) as MergeRuns;
    merges.set(key, merge);
  }
  return merge;
}

/** The first index of sorted `run[lo, hi)` whose item is not before `pivot`. */
export function lowerBound(run: AnyNumericArray, lo: number, hi: number, pivot: unknown, before: Before): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(run[mid], pivot)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index of sorted `run[lo, hi)` whose item `pivot` is before. */
export function upperBound(run: AnyNumericArray, lo: number, hi: number, pivot: unknown, before: Before): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(pivot, run[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Where to cut the merge of `src[a0, a1)` and `src[b0, b1)` into two independent merges: returns
 * `[i, j]`, the first merge taking `[a0, i)` and `[b0, j)`, the second `[i, a1)` and `[j, b1)`.
 * Items equal to the pivot stay on the side that keeps the left run's first (stability).
 */
export function cut(src: AnyNumericArray, a0: number, a1: number, b0: number, b1: number, before: Before): [number, number] {
  if (a1 - a0 >= b1 - b0) {
    const i = (a0 + a1) >>> 1;
    return [i, lowerBound(src, b0, b1, src[i], before)];
  }
  const j = (b0 + b1) >>> 1;
  return [upperBound(src, a0, a1, src[j], before), j];
}
