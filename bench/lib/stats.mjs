// Statistics used by the workloads (per-call latencies), the runner (rounds) and the cluster
// benchmark (batches).

/** Middle value; the mean of the two middle values for an even count. */
export function median(values) {
  const sorted = ascending(values);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Nearest-rank percentile: the smallest sample with at least p% of the samples at or below it, so
 * that the reported value is always a latency that was actually observed.
 */
export function percentile(values, p) {
  const sorted = ascending(values);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Sum over count: for times taken back to back, the sustained rate. */
export function mean(values) {
  if (values.length === 0) throw new RangeError('no values');
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** `{ median, min, max, n }` of a non-empty list; undefined for an empty one. */
export function spread(values) {
  if (values.length === 0) return undefined;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

function ascending(values) {
  if (values.length === 0) throw new RangeError('no values');
  return Float64Array.from(values).sort();
}
