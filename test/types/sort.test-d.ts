// The parallel sorts are typed from their input: parSort takes numeric typed arrays only and
// resolves with the same type; parSortBy's compare task must take two items of the input.
import { describe, expectTypeOf, it } from 'vitest';
import type { ThreadPool } from 'viscose';
import { parSort, parSortBy, parSortUnstable } from 'viscose/worker';

declare function byNumber(a: number, b: number): number;
declare function byBigint(a: bigint, b: bigint): number;
declare function byName(a: { name: string }, b: { name: string }): number;
declare function label(x: number): string;

const tasks = { byNumber, byBigint, byName, label };
type Tasks = typeof tasks;

describe('pool.parSort', () => {
  const pool = {} as ThreadPool<Tasks>;

  it('resolves with the typed array it was given', () => {
    expectTypeOf(pool.parSort(new Float64Array(4))).toEqualTypeOf<Promise<Float64Array<ArrayBuffer>>>();
    expectTypeOf(pool.parSortUnstable(new BigInt64Array(4))).toEqualTypeOf<Promise<BigInt64Array<ArrayBuffer>>>();
    // @ts-expect-error: an array is sorted with parSortBy and a compare task
    pool.parSort([3, 1, 2]);
    // @ts-expect-error: not a typed array
    pool.parSortUnstable(new DataView(new ArrayBuffer(8)));
  });

  it('takes a compare task of the items', () => {
    expectTypeOf(pool.parSortBy(new Int32Array(4), 'byNumber')).toEqualTypeOf<Promise<Int32Array<ArrayBuffer>>>();
    expectTypeOf(pool.parSortBy([{ name: 'a' }], 'byName')).toEqualTypeOf<Promise<{ name: string }[]>>();
    pool.parSortBy(new BigUint64Array(2), 'byBigint');
    // @ts-expect-error: byNumber does not compare bigints
    pool.parSortBy(new BigInt64Array(2), 'byNumber');
    // @ts-expect-error: label is not a compare task
    pool.parSortBy(new Float64Array(2), 'label');
  });
});

describe('parSort inside a task', () => {
  it('returns what it sorted; parSortBy takes a compare function of the items', () => {
    expectTypeOf(parSort(new Uint8Array(4))).toEqualTypeOf<Uint8Array<ArrayBuffer>>();
    expectTypeOf(parSortUnstable(new Float32Array(4))).toEqualTypeOf<Float32Array<ArrayBuffer>>();
    expectTypeOf(parSortBy([{ name: 'a' }], byName)).toEqualTypeOf<{ name: string }[]>();
    // @ts-expect-error: byName does not compare numbers
    parSortBy(new Float64Array(2), byName);
  });
});
