// Buffers workers pass each other, under load: four workers, calls that each create buffers and
// pass them down join trees, into parallel iterators and scopes and back up, while workers exit in
// the middle (their replacements join the peers). Every call settles once: with the right sums, or
// with the crash; a call that succeeded ran once; the pool passes buffers correctly afterwards.
import { expect, it } from 'vitest';
import { ThreadPool, WorkerCrashedError } from 'viscose';
import type * as Tasks from '../../fixtures/passed-buffer-tasks.mjs';
import { STRESS, scaled } from '../../support/stress.js';

const module = new URL('../../fixtures/passed-buffer-tasks.mjs', import.meta.url);
// VISCOSE_STRESS=1 runs ten times as many rounds.
const ROUNDS = scaled(4);
const CALLS = 48;
const N = 256;
const SUM = (N * (N + 1)) / 2;

it('join trees, iterators and scopes passing worker-created buffers, workers exiting at random', {
  timeout: STRESS ? 600_000 : 60_000,
}, async () => {
  const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 4 });
  try {
    let crashes = 0;
    let random = 12345;
    const next = (bound: number): number => {
      random = (random * 1103515245 + 12345) % 2147483648;
      return random % bound;
    };
    for (let round = 0; round < ROUNDS; round++) {
      const tally = new Int32Array(new SharedArrayBuffer(4 * CALLS));
      const calls = Array.from({ length: CALLS }, (_, i) => {
        const dieAt = i % 13 === 7 ? next(N) : -1;
        return pool.run('sumThreeWays', N, 16, 0.02, dieAt, tally, i).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
      });
      for (const [i, outcome] of (await Promise.all(calls)).entries()) {
        if ('error' in outcome) {
          // A worker exited under the call, or under work it forked (the forker's task then fails
          // with the crash as its error).
          const crashed =
            outcome.error instanceof WorkerCrashedError ||
            /WorkerCrashedError: worker \S+ crashed: exited with code 1/.test(String(outcome.error));
          expect(crashed, String(outcome.error)).toBe(true);
          crashes++;
          continue;
        }
        expect(outcome.value).toEqual([SUM, SUM, SUM]);
        expect(tally[i]).toBe(1);
      }
    }
    expect(crashes).toBeGreaterThanOrEqual(ROUNDS * 2);
    const after = await pool.run('sumThreeWays', N, 16, 0.02, -1, new Int32Array(new SharedArrayBuffer(4)), 0);
    expect(after).toEqual([SUM, SUM, SUM]);
  } finally {
    await pool.close();
  }
});
