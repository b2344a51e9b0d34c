// The pieces a parallel iterator ran, as the `viscose:parIter:piece` channel reports them.
import { expect } from 'vitest';

export interface Piece {
  pipeline: number;
  /** Units [lo, hi) of the source. */
  lo: number;
  hi: number;
  worker: number;
}

/**
 * Checks that pieces sorted by position belong to one pipeline and cover [0, units) exactly once;
 * returns where each begins.
 */
export function expectTiling(pieces: readonly Piece[], units: number): number[] {
  expect(pieces.length).toBeGreaterThan(0);
  expect(new Set(pieces.map((piece) => piece.pipeline)).size).toBe(1);
  let next = 0;
  for (const piece of pieces) {
    expect(piece.lo).toBe(next);
    expect(piece.hi).toBeGreaterThan(piece.lo);
    next = piece.hi;
  }
  expect(next).toBe(units);
  return pieces.map((piece) => piece.lo);
}
