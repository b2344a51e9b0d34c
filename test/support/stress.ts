/**
 * Test sizes. CI runs each concurrency file in a few seconds; VISCOSE_STRESS=1 runs ten times the
 * work (and allows ten times the time) for a longer hunt on a developer machine.
 */
export const STRESS = process.env.VISCOSE_STRESS === '1';

export function scaled(n: number): number {
  return STRESS ? n * 10 : n;
}

/** Prints what a run did (how often races and full queues happened) when VISCOSE_VERBOSE=1. */
export function logStats(label: string, stats: unknown): void {
  if (process.env.VISCOSE_VERBOSE === '1') console.log(label, JSON.stringify(stats));
}
