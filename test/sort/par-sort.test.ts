// parSort and parSortUnstable give exactly TypedArray.prototype.sort's result, for every numeric
// kind, every shape of input and sizes around the thresholds, on 1, 2 and 4 threads, from the main
// thread and inside a task.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import * as tasks from '../fixtures/sort.mjs';
import type * as Fixture from '../fixtures/sort.mjs';
import { type Numeric, firstDifference, inputs, makeValues, sortedCopy } from './values.js';

const module = new URL('../fixtures/sort.mjs', import.meta.url);

describe.each([1, 2, 4])('parallel sort on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('sorts like TypedArray.prototype.sort from the main thread, in place', async () => {
    await fc.assert(
      fc.asyncProperty(inputs, fc.boolean(), async ({ kind, count, shape, seed, shared }, unstable) => {
        const view = makeValues(kind, count, shape, seed, shared);
        const expected = sortedCopy(view);
        const result = await (unstable ? pool.parSortUnstable(view) : pool.parSort(view));
        expect(result).toBe(view);
        expect(firstDifference(view, expected)).toBe(-1);
      }),
      { numRuns: 40 },
    );
  });

  it('sorts like TypedArray.prototype.sort inside a task', async () => {
    await fc.assert(
      fc.asyncProperty(inputs, fc.boolean(), async ({ kind, count, shape, seed, shared }, unstable) => {
        const view = makeValues(kind, count, shape, seed, shared);
        const expected = sortedCopy(view);
        const result = (await pool.run('sortInside', view, unstable)) as Numeric;
        // A shared view is sorted where it is; any other comes back as the task's sorted copy.
        if (shared) expect(result.buffer).toBe(view.buffer);
        expect(firstDifference(result, expected)).toBe(-1);
      }),
      { numRuns: 25 },
    );
  });

  it('sorts by a compare task like TypedArray.prototype.sort with that function', async () => {
    await fc.assert(
      fc.asyncProperty(inputs, async ({ kind, count, shape, seed, shared }) => {
        const view = makeValues(kind, count, shape, seed, shared);
        const expected = (view.slice() as Float64Array).sort(tasks.descending);
        await pool.parSortBy(view, 'descending');
        expect(firstDifference(view, expected)).toBe(-1);
      }),
      { numRuns: 15 },
    );
  });
});

// The sizes the benchmark sorts, once each: every shape a sort must get right, in one 10M array.
describe('parallel sort of ten million items', { timeout: 120_000 }, () => {
  it('gives TypedArray.prototype.sort result for Float64 with NaN, -0, +0 and infinities, and for Int32', async () => {
    await using pool = await ThreadPool.create<typeof Fixture>({ module, threads: 2 });
    for (const [kind, shape] of [
      [Float64Array, 'specials'],
      [Int32Array, 'random'],
    ] as const) {
      const view = makeValues(kind, 10_000_000, shape, 20261206, true);
      const expected = sortedCopy(view);
      await pool.parSort(view);
      expect(firstDifference(view, expected)).toBe(-1);
    }
  });
});
