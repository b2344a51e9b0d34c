// Control messages (here: ping, a control call to every worker) must reach a worker that is idle
// and parked. A worker parks synchronously, which freezes its event loop, so it reads its control
// port only between parks. Deno delivered a message only after several event-loop turns: each one
// then waited through one 100 ms park after another, and a third of them took over 2 s. This test
// then ran for minutes there; since the workers compare what was posted with what their port
// delivered (CONTROL_POSTED), it takes about as long as on Node. Shared buffers travel on a port of
// their own that the workers read synchronously: no event-loop turn at all.
import { expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import type * as Tasks from '../fixtures/tasks.mjs';

const module = new URL('../fixtures/tasks.mjs', import.meta.url);

it('reaches idle, parked workers with every control call', async () => {
  const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 3 });
  try {
    const before = pool.controlMessages.sent;
    for (let call = 0; call < 300; call++) {
      // One at a time, so that the workers go idle and park between them.
      expect(await pool.ping()).toEqual([0, 1, 2]);
    }
    expect(pool.controlMessages.sent - before).toBe(300 * 3);
  } finally {
    await pool.close();
  }
});

it('hands a fresh shared buffer to idle, parked workers for every call', async () => {
  const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 3 });
  try {
    for (let call = 0; call < 300; call++) {
      const values = new Int32Array(new SharedArrayBuffer(4 * 8));
      values.fill(call);
      expect(await pool.run('sum', values)).toBe(8 * call);
    }
  } finally {
    await pool.close();
  }
});
