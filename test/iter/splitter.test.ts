// Rayon's adaptive splitter as a pure function: the split tree it makes for a pipeline of n units,
// given which pieces migrate to another worker.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SplitLimits, initialSplits, midpoint, trySplit } from '../../src/iter/splitter.js';

interface Leaf {
  lo: number;
  hi: number;
}

/**
 * The leaves of the split tree, left to right, splitting as the runner does: the left half stays,
 * the right half is offered to thieves and `stolen(lo, hi)` says whether one took it.
 */
function leaves(n: number, threads: number, limits: SplitLimits, stolen: (lo: number, hi: number) => boolean): Leaf[] {
  const out: Leaf[] = [];
  const piece = (lo: number, hi: number, splits: number, migrated: boolean): void => {
    const half = trySplit(hi - lo, splits, migrated, threads, limits);
    if (half < 0) {
      out.push({ lo, hi });
      return;
    }
    const mid = midpoint(lo, hi);
    piece(lo, mid, half, false);
    piece(mid, hi, half, stolen(mid, hi));
  };
  piece(0, n, initialSplits(threads, n, limits), false);
  return out;
}

const never = () => false;
const noLimits: SplitLimits = { minLen: 1, maxLen: Infinity };

describe('adaptive splitting', () => {
  it('cuts a balanced load that nobody steals into at most 2 × threads pieces', () => {
    for (const threads of [1, 2, 3, 4, 8, 16]) {
      const pieces = leaves(1_000_000, threads, noLimits, never);
      expect(pieces.length).toBeGreaterThanOrEqual(threads);
      expect(pieces.length).toBeLessThanOrEqual(2 * threads);
    }
  });

  it('splits a stolen piece again, down to a fresh budget of the thread count', () => {
    // Unstolen, 2 threads cut 2^20 units into 4 pieces of 2^18.
    expect(leaves(1 << 20, 2, noLimits, never).map(({ lo, hi }) => hi - lo)).toEqual([1 << 18, 1 << 18, 1 << 18, 1 << 18]);
    // The right half, stolen with a budget of 1, gives its halves a budget of 2 again (not 0): it is
    // cut into 8 pieces instead of 2.
    const stolenRight = leaves(1 << 20, 2, noLimits, (lo, hi) => lo === 1 << 19 && hi === 1 << 20);
    expect(stolenRight.map(({ lo, hi }) => hi - lo)).toEqual([1 << 18, 1 << 18, ...Array(8).fill(1 << 16)]);
  });

  it('splits where the thefts are: pieces get small only in the stolen region', () => {
    // Thieves keep stealing inside [3/4 n, n), as they would where the items are expensive.
    const n = 1 << 16;
    const pieces = leaves(n, 2, noLimits, (lo) => lo >= (3 * n) / 4);
    const inHot = pieces.filter(({ lo }) => lo >= (3 * n) / 4);
    const inCold = pieces.filter(({ lo }) => lo < (3 * n) / 4);
    expect(inCold.length).toBeLessThanOrEqual(3);
    expect(inHot.length).toBeGreaterThan(100);
  });

  it('partitions the units in order, respects minLen, and honours maxLen when minLen leaves room', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 300 }),
        fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }),
        fc.integer(),
        (n, threads, minLen, maxLen, seed) => {
          const limits = { minLen, maxLen: maxLen ?? Infinity };
          // Pseudo-random thefts, reproducible from the seed.
          const stolen = (lo: number, hi: number) => ((Math.imul(lo ^ seed, 0x9e3779b1) ^ hi) & 3) === 0;
          const pieces = leaves(n, threads, limits, stolen);
          let next = 0;
          for (const { lo, hi } of pieces) {
            expect(lo).toBe(next);
            expect(hi).toBeGreaterThanOrEqual(lo);
            next = hi;
          }
          expect(next).toBe(n);
          if (pieces.length > 1) for (const { lo, hi } of pieces) expect(hi - lo).toBeGreaterThanOrEqual(minLen);
          if (maxLen !== undefined && 2 * minLen <= maxLen) for (const { lo, hi } of pieces) expect(hi - lo).toBeLessThanOrEqual(maxLen);
        },
      ),
      { numRuns: 500 },
    );
  });
});
