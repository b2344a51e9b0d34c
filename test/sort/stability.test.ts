// parSort and parSortBy are stable: records with equal keys keep their order, from the main thread
// and inside a task; an array is sorted in place like Array.prototype.sort (its own objects,
// undefined and holes last). parSortUnstable gives the sorted values.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import * as tasks from '../fixtures/sort.mjs';
import type * as Fixture from '../fixtures/sort.mjs';
import { firstDifference, sizes } from './values.js';

const module = new URL('../fixtures/sort.mjs', import.meta.url);

interface Entry {
  key: number;
  id: number;
}

/** `count` records whose keys repeat (`distinct` of them), ids in input order. */
function records(count: number, distinct: number, seed: number): Entry[] {
  return Array.from({ length: count }, (_, id) => ({ key: Math.abs((id * 2654435761 + seed) | 0) % distinct, id }));
}

const recordInputs = fc.record({ count: sizes, distinct: fc.constantFrom(1, 2, 7, 1000), seed: fc.integer() });

describe.each([2, 4])('stable sorts on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('parSortBy reorders an array of records in place, equal keys in their order', async () => {
    await fc.assert(
      fc.asyncProperty(recordInputs, async ({ count, distinct, seed }) => {
        const array = records(count, distinct, seed);
        const expected = array.slice().sort(tasks.byKey);
        const result = await pool.parSortBy(array, 'byKey');
        expect(result).toBe(array);
        // The same objects, in Array.prototype.sort's (stable) order.
        expect(firstDifference(array, expected)).toBe(-1);
      }),
      { numRuns: 15 },
    );
  });

  it('parSortBy inside a task keeps equal keys in their order', async () => {
    await fc.assert(
      fc.asyncProperty(recordInputs, async ({ count, distinct, seed }) => {
        const array = records(count, distinct, seed);
        const expected = array.slice().sort(tasks.byKey);
        const result = (await pool.run('sortByInside', array, 'byKey')) as Entry[];
        expect(result.map((entry) => entry.id)).toEqual(expected.map((entry) => entry.id));
      }),
      { numRuns: 10 },
    );
  });

  it('parSortBy over a typed array keeps equal items in their order: -0 and +0 tie', async () => {
    // `descending` ties -0 and +0: a stable sort keeps them as they came, which the sign shows.
    const count = 100_003;
    const view = new Float64Array(new SharedArrayBuffer(8 * count));
    for (let i = 0; i < count; i++) view[i] = i % 3 === 0 ? (i % 2 === 0 ? -0 : 0) : (i % 1000) - 500;
    const expected = view.slice().sort(tasks.descending);
    await pool.parSortBy(view, 'descending');
    expect(firstDifference(view, expected)).toBe(-1);
  });

  it('parSortBy puts undefined and holes last, as Array.prototype.sort does', async () => {
    const count = 70_000;
    const array: (Entry | undefined)[] = records(count, 50, 1);
    for (let i = 0; i < count; i += 7) array[i] = undefined;
    for (let i = 3; i < count; i += 11) delete array[i];
    const expected = array.slice().sort(tasks.byKey as (a: Entry | undefined, b: Entry | undefined) => number);
    await pool.parSortBy(array, 'byKey');
    expect(array.length).toBe(count);
    expect(firstDifference(array, expected)).toBe(-1);
    expect(Object.keys(array).length).toBe(Object.keys(expected).length);
  });

  it('parSortUnstable gives the values sorted', async () => {
    const count = 150_001;
    const view = new Int32Array(new SharedArrayBuffer(4 * count));
    for (let i = 0; i < count; i++) view[i] = (i * 7919) % 1009;
    const expected = view.slice().sort();
    await pool.parSortUnstable(view);
    expect(firstDifference(view, expected)).toBe(-1);
  });
});
