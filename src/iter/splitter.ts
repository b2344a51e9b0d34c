/**
 * Rayon's adaptive splitter. A piece of a parallel iterator splits in two while it has a split
 * budget, which starts at the thread count and halves with each split; a piece that migrated to
 * another worker (it was stolen, so some worker is idle) gets its budget reset to at least the
 * thread count. A balanced load thus makes O(threads) pieces, and an unbalanced one keeps splitting
 * where the imbalance is. `minLen` keeps pieces from getting shorter than it; `maxLen` raises the
 * initial budget so that pieces get no longer than it.
 */
export interface SplitLimits {
  minLen: number;
  maxLen: number;
}

/** The initial budget of a pipeline over `length` items. */
export function initialSplits(threads: number, length: number, limits: SplitLimits): number {
  const forMaxLen = Number.isFinite(limits.maxLen) ? Math.floor(length / Math.max(limits.maxLen, 1)) : 0;
  return Math.max(threads, forMaxLen);
}

/**
 * Where a piece [lo, hi) is cut in two: the left half gets the smaller share of an odd length.
 * Exact for every safe integer; a 32-bit shift would wrap once the length passes 2^31.
 */
export function midpoint(lo: number, hi: number): number {
  return lo + Math.floor((hi - lo) / 2);
}

/**
 * Whether a piece of `length` items with budget `splits` should split; returns the budget each
 * half gets, or -1 for "run it sequentially".
 */
export function trySplit(length: number, splits: number, migrated: boolean, threads: number, limits: SplitLimits): number {
  if (length < 2 || Math.floor(length / 2) < Math.max(limits.minLen, 1)) return -1;
  if (migrated) return Math.max(threads, Math.floor(splits / 2));
  if (splits > 0) return Math.floor(splits / 2);
  return -1;
}
