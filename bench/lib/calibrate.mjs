// The size of one unit of CPU-bound work: the iteration count of `cpu` (tasks.mjs) that takes about
// 2 ms on this machine's main thread, after JIT warm-up. The runner measures it once per run and
// hands it to every child, so that every contender runs exactly the same work.
import { cpu } from './tasks.mjs';

export const UNIT_MS = 2;
const ENV = 'VISCOSE_BENCH_UNIT_ITERATIONS';

/** Median nanoseconds per iteration over 15 runs of 2,000,000 iterations → iterations per unit. */
export function calibrate() {
  for (let i = 0; i < 30; i++) cpu({ n: 200_000, seed: i });
  const nsPerIteration = [];
  for (let i = 0; i < 15; i++) {
    const start = performance.now();
    cpu({ n: 2_000_000, seed: i });
    nsPerIteration.push(((performance.now() - start) * 1e6) / 2_000_000);
  }
  nsPerIteration.sort((a, b) => a - b);
  return Math.round((UNIT_MS * 1e6) / nsPerIteration[7]);
}

/** The unit the runner chose (passed in the environment), or one measured here. */
export function unitIterations() {
  const given = Number(process.env[ENV]);
  return Number.isInteger(given) && given > 0 ? given : calibrate();
}

/** The environment entry that hands `iterations` to a child. */
export function unitEnvironment(iterations) {
  return { [ENV]: String(iterations) };
}
