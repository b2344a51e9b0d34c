// The sequential kernels of the fork-join benchmarks. The main thread runs them as the baseline,
// and the viscose task module (../workers/viscose-forkjoin.mjs) runs the very same functions below
// its sequential cut-offs, so that a speedup is the pool's doing, not a different algorithm's.

/** Below this n, fib's task (../workers/viscose-forkjoin.mjs) recurses without join. */
export const FIB_CUTOFF = 20;

export function fibSequential(n) {
  return n < 2 ? n : fibSequential(n - 1) + fibSequential(n - 2);
}

/** Lomuto partition of a[lo, hi) around its middle element; returns the pivot's final index. */
export function partition(a, lo, hi) {
  const mid = lo + ((hi - lo) >> 1);
  const pivot = a[mid];
  a[mid] = a[hi - 1];
  a[hi - 1] = pivot;
  let store = lo;
  for (let i = lo; i < hi - 1; i++) {
    const value = a[i];
    if (value < pivot) {
      a[i] = a[store];
      a[store] = value;
      store++;
    }
  }
  a[hi - 1] = a[store];
  a[store] = pivot;
  return store;
}

/** The same quicksort without join: partitions down to `cutoff`, then the built-in sort. */
export function quicksortSequential(a, lo, hi, cutoff) {
  while (hi - lo > cutoff) {
    const p = partition(a, lo, hi);
    quicksortSequential(a, lo, p, cutoff);
    lo = p + 1;
  }
  a.subarray(lo, hi).sort();
}

/** The map step of the parIter benchmark: cheap, so the pool's overhead is not hidden. */
export function transform(x) {
  return Math.sqrt(x) * 0.5 + 1;
}

export function sumSequential(values) {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

export function mapSequential(values, out) {
  for (let i = 0; i < values.length; i++) out[i] = transform(values[i]);
}

/** Deterministic pseudo-random Int32 values (a linear congruential generator). */
export function fillRandom(values, seed) {
  let state = seed | 0;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
    values[i] = state;
  }
}

/** The LCG of `fillRandom`, scaled into [-1, 1): the Float64 input of the sort workload. */
export function fillRandomFloat(values, seed) {
  let state = seed | 0;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
    values[i] = state / 2147483648;
  }
}

/** Small integers, so that every sum is exact in any order of addition. */
export function fillIntegers(values) {
  for (let i = 0; i < values.length; i++) values[i] = i % 1000;
}
