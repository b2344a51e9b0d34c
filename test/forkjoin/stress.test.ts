// Fork-join under load: four workers on two cores, parallel iterators from the main thread and from
// tasks, steps that join, scopes and plain calls all at once; every item visited exactly once and
// every result equal to the sequential one. VISCOSE_STRESS=1 runs ten times as many rounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, range } from 'viscose';
import type * as Fixture from '../fixtures/iter.mjs';
import { STRESS, scaled } from '../support/stress.js';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function sharedCounts(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * length));
}

describe('fork-join under load', () => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads: 4 });
  });
  afterAll(() => pool.close());

  it('keeps every result exact and every item visited once', { timeout: STRESS ? 600_000 : 60_000 }, async () => {
    const rounds = scaled(6);
    for (let round = 0; round < rounds; round++) {
      const n = 2_000 + round * 37;
      const forEachCounts = sharedCounts(n);
      const scopeCounts = sharedCounts(n);
      const work: Promise<void>[] = [
        pool
          .parIter(range(0, n))
          .maxLen(16)
          .forEach('visit', forEachCounts)
          .then(() => {
            expect(forEachCounts.every((count) => count === 1)).toBe(true);
          }),
        pool.run('visitInScope', scopeCounts).then(() => {
          expect(scopeCounts.every((count) => count === 1)).toBe(true);
        }),
        pool
          .parIter(range(0, 24))
          .map('fibJoin')
          .collect()
          .then((values) => expect(values).toEqual(Array.from({ length: 24 }, (_, i) => fib(i)))),
        pool.run('sumOfSquares', n).then((total) => expect(total).toBe(((n - 1) * n * (2 * n - 1)) / 6)),
        pool
          .parIter(range(0, 40))
          .map('sumOfSquares')
          .sum()
          .then((total) => {
            let expected = 0;
            for (let k = 0; k < 40; k++) expected += ((k - 1) * k * (2 * k - 1)) / 6;
            expect(total).toBe(expected);
          }),
        ...Array.from({ length: 20 }, (_, k) => pool.run('square', k).then((value) => expect(value).toBe(k * k))),
      ];
      await Promise.all(work);
    }
    const snapshots = await pool.snapshot();
    expect(snapshots.reduce((sum, worker) => sum + worker.steals, 0)).toBeGreaterThan(0);
  });
});
