// The parallel merge's pieces as pure functions: cutting two sorted runs at the longer one's middle
// and merging the two sides separately gives the merge of the whole, and keeps equal items in their
// order, whatever the runs hold (duplicates, -0 and +0, one run empty).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MergeTest, cut, mergeFor } from '../../src/sort/merge.js';
import { nanStart } from '../../src/sort/order.js';
import type { AnyNumericArray } from '../../src/sort/sortable.js';

/** Items are `key * 1000 + origin`: the order looks at the key only, so ties show their origin. */
const byKey = (x: unknown, y: unknown): boolean => Math.floor((x as number) / 1000) < Math.floor((y as number) / 1000);

/** Merges by cutting down to pieces of at most `piece` items, as the parallel merge does. */
function cutMerge(
  src: AnyNumericArray,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  dst: AnyNumericArray,
  at: number,
  piece: number,
): void {
  if (a1 - a0 + (b1 - b0) <= piece) {
    mergeFor(Object.prototype.toString.call(src), 'call')(src, a0, a1, b0, b1, dst, at, byKey);
    return;
  }
  const [i, j] = cut(src, a0, a1, b0, b1, byKey);
  cutMerge(src, a0, i, b0, j, dst, at, piece);
  cutMerge(src, i, a1, j, b1, dst, at + (i - a0) + (j - b0), piece);
}

const run = fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 60 }).map((keys) => keys.sort((x, y) => x - y));

describe('the parallel merge', () => {
  it('cut into pieces, merges stably: equal keys keep the left run first, each run in order', () => {
    fc.assert(
      fc.property(run, run, fc.integer({ min: 2, max: 10 }), (left, right, piece) => {
        // Origins: the left run's items 0.., the right run's 500..: a stable merge keeps them rising per key.
        const items = [...left.map((key, i) => key * 1000 + i), ...right.map((key, i) => key * 1000 + 500 + i)];
        const src = new Float64Array(items) as unknown as AnyNumericArray;
        const dst = new Float64Array(items.length) as unknown as AnyNumericArray;
        cutMerge(src, 0, left.length, left.length, items.length, dst, 0, piece);
        const expected = items.slice().sort((x, y) => Math.floor(x / 1000) - Math.floor(y / 1000));
        expect(Array.from(dst as unknown as Float64Array)).toEqual(expected);
      }),
    );
  });

  it('merges by value with the test written into the merge: integers, and floats with -0 before +0', () => {
    const cases: [MergeTest, fc.Arbitrary<number>, (values: number[]) => AnyNumericArray][] = [
      ['integer', fc.integer({ min: -5, max: 5 }), (values) => Int32Array.from(values) as unknown as AnyNumericArray],
      ['float', fc.constantFrom(-1.5, -0, 0, 0.25, 2), (values) => Float64Array.from(values) as unknown as AnyNumericArray],
    ];
    for (const [test, value, make] of cases) {
      fc.assert(
        fc.property(fc.array(value, { maxLength: 40 }), fc.array(value, { maxLength: 40 }), (left, right) => {
          const sorted = (values: number[]) => Array.from(make(values).sort() as unknown as ArrayLike<number>);
          const src = make([...sorted(left), ...sorted(right)]);
          const dst = make(Array(src.length).fill(0));
          mergeFor(Object.prototype.toString.call(src), test)(src, 0, left.length, left.length, src.length, dst, 0, () => {
            throw new Error('the value test is written into the merge, not called');
          });
          // toEqual tells -0 from +0.
          const expected = Array.from(make([...left, ...right]).sort() as unknown as ArrayLike<number>);
          expect(Array.from(dst as unknown as ArrayLike<number>)).toEqual(expected);
        }),
      );
    }
  });

  it('finds where the NaNs at the end of a sorted run start', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 }), (numbers, nans) => {
        const view = new Float64Array([...Array.from({ length: numbers }, (_, i) => i), ...Array(nans).fill(Number.NaN)]);
        expect(nanStart(view as unknown as AnyNumericArray, 0, view.length)).toBe(numbers);
      }),
    );
  });
});
