// How pipelines are cut into pieces on real workers, seen through the `viscose:parIter:piece`
// diagnostics channel: every unit in exactly one piece, few pieces for a balanced load, more where
// pieces get stolen, and the minLen/maxLen limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, range } from 'viscose';
import type * as Fixture from '../fixtures/iter.mjs';
import { type Piece, expectTiling } from '../support/pieces.js';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

describe('pieces of parallel iterators on 2 threads', () => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads: 2 });
    await pool.broadcast('recordPieces');
  });
  afterAll(() => pool.close());

  /** Runs `work` and returns the pieces it ran, sorted by position; checks they tile [0, units). */
  async function piecesOf(units: number, work: () => Promise<unknown>): Promise<Piece[]> {
    await pool.broadcast('takePieces');
    await work();
    const pieces = ((await pool.broadcast('takePieces')) as Piece[][]).flat().sort((a, b) => a.lo - b.lo);
    expectTiling(pieces, units);
    return pieces;
  }

  it('runs every item exactly once, in pieces that tile the source', async () => {
    const n = 20_000;
    const counts = new Int32Array(new SharedArrayBuffer(4 * n));
    await piecesOf(n, () => pool.parIter(range(0, n)).maxLen(100).forEach('visit', counts));
    expect(counts.every((count) => count === 1)).toBe(true);
  });

  it('cuts a cheap balanced load into a handful of pieces', async () => {
    const n = 1_000_000;
    const pieces = await piecesOf(n, () => pool.parIter(range(0, n)).map('square').sum());
    // Unstolen: 4 pieces. A theft splits the stolen piece into up to 8, and at the end of a run the
    // two workers steal back and forth until pieces are too small to be worth it (measured: 4 when
    // the second worker woke too late to steal, else 10 to 75). Item-sized pieces would be 10^6.
    expect(pieces.length).toBeLessThanOrEqual(256);
  });

  it('splits stolen pieces further, and both workers share a load that takes long', async () => {
    const n = 512;
    const counts = new Int32Array(new SharedArrayBuffer(4 * n));
    // 512 items of 100 µs: the idle worker steals the right half long before the left half ends.
    const pieces = await piecesOf(n, () => pool.parIter(range(0, n)).forEach('visit', counts, 100));
    expect(counts.every((count) => count === 1)).toBe(true);
    expect(new Set(pieces.map((piece) => piece.worker)).size).toBe(2);
    // Without the budget reset on theft, no piece would be shorter than n / 4.
    expect(Math.min(...pieces.map((piece) => piece.hi - piece.lo))).toBeLessThan(n / 4);
  });

  it('never cuts pieces shorter than minLen', async () => {
    const pieces = await piecesOf(100_000, () => pool.parIter(range(0, 100_000)).minLen(30_000).sum());
    expect(pieces.map((piece) => piece.hi - piece.lo)).toEqual([50_000, 50_000]);
  });

  it('cuts pieces no longer than maxLen', async () => {
    const pieces = await piecesOf(100_000, () => pool.parIter(range(0, 100_000)).maxLen(1_000).sum());
    for (const piece of pieces) expect(piece.hi - piece.lo).toBeLessThanOrEqual(1_000);
    expect(pieces.length).toBeGreaterThanOrEqual(100);
  });

  it('splits chunks, not items, when iterating over chunks', async () => {
    const pieces = await piecesOf(10, () => pool.parIter(range(0, 1000)).chunks(100).map('sumOf').collect());
    expect(pieces.length).toBeGreaterThan(1);
  });

  it('cuts a pipeline started inside a task the same way', async () => {
    const pieces = await piecesOf(50_000, () => pool.run('sumOfSquares', 50_000));
    expect(pieces.length).toBeGreaterThanOrEqual(2);
  });
});
