// The buffer-port protocol under load: four workers, calls with fresh and reused buffers in flight
// together, explicit releases between rounds, and workers dying in the middle (their replacements
// start with the buffers the pool knows). Every call settles once, reads the buffer it was given,
// and a call that settled successfully ran exactly once.
import { expect, it } from 'vitest';
import { ThreadPool, WorkerCrashedError } from 'viscose';
import type * as Tasks from '../../fixtures/shared-buffer-tasks.mjs';

const module = new URL('../../fixtures/shared-buffer-tasks.mjs', import.meta.url);
const ROUNDS = 6;
const CALLS = 400;

it('many calls with fresh, reused and released buffers, workers dying at random', async () => {
  const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 4 });
  try {
    const reused = Array.from({ length: 8 }, (_, i) => {
      const view = new Uint8Array(new SharedArrayBuffer(256));
      view[0] = 200 + i;
      return view;
    });
    let crashes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const tally = new Int32Array(new SharedArrayBuffer(4 * CALLS));
      const expected: number[] = [];
      const calls = Array.from({ length: CALLS }, (_, i) => {
        let view: Uint8Array;
        if (i % 3 === 0) {
          view = reused[i % reused.length];
        } else {
          view = new Uint8Array(new SharedArrayBuffer(1024));
          view[0] = i % 200;
        }
        expected.push(view[0]);
        const die = i % 97 === 13;
        return pool.run('tallyFirst', view, tally, i, die).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
      });
      const outcomes = await Promise.all(calls);
      for (const [i, outcome] of outcomes.entries()) {
        if ('error' in outcome) {
          // Only the calls that kill their worker, and calls that shared a worker with one.
          expect(outcome.error).toBeInstanceOf(WorkerCrashedError);
          crashes++;
          continue;
        }
        expect(outcome.value).toBe(expected[i]);
        expect(tally[i]).toBe(1);
      }
      // Released between rounds: sent again next round, it is shared anew.
      pool.release(reused[round % reused.length].buffer as SharedArrayBuffer);
    }
    expect(crashes).toBeGreaterThanOrEqual(ROUNDS * 4);
    // Every worker still decodes what it is sent.
    expect(await pool.broadcast('first', reused[0])).toEqual([200, 200, 200, 200]);
  } finally {
    await pool.close();
  }
});
