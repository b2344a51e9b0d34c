// The viscose task module of the fork-join benchmarks: the kernels of ../lib/kernels.mjs with
// join above their cut-offs, and a probe for the cost of one join.
import { join } from 'viscose/worker';
import { fibSequential, partition, transform } from '../lib/kernels.mjs';

export { transform };

export function fib(n, cutoff) {
  if (n <= cutoff) return fibSequential(n);
  const [a, b] = join([fib, n - 1, cutoff], [fib, n - 2, cutoff]);
  return a + b;
}

/** The recursion of quicksortSequential, its two halves joined. */
export function quicksort(a, lo, hi, cutoff) {
  if (hi - lo <= cutoff) {
    a.subarray(lo, hi).sort();
    return;
  }
  const p = partition(a, lo, hi);
  join([quicksort, a, lo, p, cutoff], [quicksort, a, p + 1, hi, cutoff]);
}

export function leaf(i) {
  return i + 1;
}

/**
 * Nanoseconds one join adds over calling its two halves directly, measured over `count` joins of
 * `leaf`: the loop of joins and the loop of direct calls alternate `rounds` times, and the
 * medians are compared. Returns the figures and how many second halves were stolen (none can be
 * on a pool of one thread).
 */
export function joinCost(count, rounds) {
  const joined = [];
  const direct = [];
  let check = 0;
  for (let r = 0; r < rounds; r++) {
    let start = performance.now();
    for (let i = 0; i < count; i++) {
      const [x, y] = join([leaf, i], [leaf, i]);
      check += x + y;
    }
    joined.push(performance.now() - start);
    start = performance.now();
    for (let i = 0; i < count; i++) check -= leaf(i) + leaf(i);
    direct.push(performance.now() - start);
  }
  if (check !== 0) throw new Error('join returned wrong results');
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
  return { joinNs: ((median(joined) - median(direct)) * 1e6) / count, directNs: (median(direct) * 1e6) / count };
}
