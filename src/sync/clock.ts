/**
 * The clock every thread shares. `performance.now()` alone counts from each thread's own start, so
 * timestamps written by one thread and read by another add `performance.timeOrigin`.
 */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}
