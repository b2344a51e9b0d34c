// Task module of the soak benchmark: the trivial task of every benchmark, and a small fork-join
// recursion, so that a long run goes through single calls, batches and the workers' nested slots.
import { join } from 'viscose/worker';

export { trivial } from '../lib/tasks.mjs';

/** Sum of lo..hi-1 by recursive join down to ranges of `grain`. */
export function sumJoin(lo, hi, grain) {
  if (hi - lo <= grain) {
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += i;
    return sum;
  }
  const mid = (lo + hi) >>> 1;
  const [a, b] = join([sumJoin, lo, mid, grain], [sumJoin, mid, hi, grain]);
  return a + b;
}

/**
 * Collects garbage on the worker it runs on (the process runs with --expose-gc) and returns the
 * worker's heap: used, and reserved by V8 (which grows its young generation under a high
 * allocation rate, up to a bound).
 */
export function collectGarbage() {
  globalThis.gc?.();
  const { heapUsed, heapTotal } = process.memoryUsage();
  return { heapUsed, heapTotal };
}
