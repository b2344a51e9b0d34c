// A call's cancel reaches the work it forked wherever that runs. A join's second half stolen by
// another worker runs in a slot of its own; it used to look only at that slot's cancel flag, which
// nothing raises, so `isCancelled()` stayed false there and a parallel iterator started in it ran
// until the pool was terminated. Forked work now names the call it works for (the slot word ROOT).
import { describe, expect, it } from 'vitest';
import { AbortError, ThreadPool } from 'viscose';
import type * as Tasks from '../../fixtures/cancel-forks.mjs';

const module = new URL('../../fixtures/cancel-forks.mjs', import.meta.url);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits up to `ms` for word `index` of `marks` to be set; returns whether it was. */
async function marked(marks: Int32Array, index: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms && Atomics.load(marks, index) === 0; waited += 10) await pause(10);
  return Atomics.load(marks, index) === 1;
}

describe.each(['stolenSpin', 'stolenCount'] as const)('%s: the stolen half of a cancelled call', (task) => {
  it('stops, whether aborted or timed out', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      for (const stop of ['abort', 'timeout'] as const) {
        const marks = new Int32Array(new SharedArrayBuffer(8));
        const controller = new AbortController();
        const options = stop === 'abort' ? { signal: controller.signal } : { timeout: 300 };
        const call = pool.with(options).run(task, marks);
        expect(await marked(marks, 0, 10_000)).toBe(true);
        if (stop === 'abort') controller.abort();
        await expect(call).rejects.toThrow(stop === 'abort' ? AbortError : /timed out|timeout/i);
        expect(await marked(marks, 1, 10_000)).toBe(true);
      }
      // Both workers are free again.
      expect(await pool.ping()).toEqual([0, 1]);
    } finally {
      await pool.terminate();
    }
  });
});
