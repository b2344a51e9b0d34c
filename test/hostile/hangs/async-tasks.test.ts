// Asynchronous tasks that hold their worker. With asyncTasksPerWorker at 1, one pending promise
// kept its worker from running anything else: 2 threads with 2 tasks awaiting left a synchronous
// call waiting with both CPUs idle. And an asynchronous task that never settled held its worker
// for good even after its caller timed it out: two of them wedged a 2-thread pool (the next call
// never ran, nothing reached onError). Now a worker whose tasks are all awaiting runs other work,
// up to asyncTasksPerWorker (default 16), and a task whose caller gives up (timeout, abort) stops
// counting against its worker: its slot is returned and whatever it settles with later is ignored.
import { describe, expect, it } from 'vitest';
import { AbortError, TaskTimeoutError, ThreadPool } from 'viscose';
import type * as AsyncTasks from '../../fixtures/async-tasks.mjs';
import { rejection } from '../../support/rejection.js';
import { waitFor } from '../../support/wait-for.js';

const module = new URL('../../fixtures/async-tasks.mjs', import.meta.url);
const flag = () => new Int32Array(new SharedArrayBuffer(4));

/**
 * A flag the workers already know: a call that refers to a new shared buffer waits for it to be
 * announced, and calls made meanwhile without one would overtake it.
 */
async function announcedFlag(pool: ThreadPool<typeof AsyncTasks>): Promise<Int32Array> {
  const hold = flag();
  await pool.run('peek', hold);
  return hold;
}

describe('asynchronous tasks that wait', () => {
  it('leave their worker free for other calls while they await', async () => {
    // One worker, so that it is certainly the one holding both awaiting tasks.
    const pool = await ThreadPool.create<typeof AsyncTasks>({ module, threads: 1 });
    const hold = await announcedFlag(pool);
    try {
      const waiting = [pool.run('awaitFlag', hold), pool.run('awaitFlag', hold)];
      await waitFor(async () => (await pool.snapshot())[0].asyncInFlight === 2);
      // These calls must run beside the awaiting tasks, before those are released.
      expect(await pool.run('add', 2, 3)).toBe(5);
      expect(await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('add', i, 1)))).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      Atomics.store(hold, 0, 1);
      expect(await Promise.all(waiting)).toEqual(['released', 'released']);
    } finally {
      Atomics.store(hold, 0, 1); // close() waits for them
      await pool.close();
    }
  });

  it('up to asyncTasksPerWorker each: beyond it, calls wait for one to settle', async () => {
    const pool = await ThreadPool.create<typeof AsyncTasks>({ module, threads: 1, asyncTasksPerWorker: 2 });
    const hold = await announcedFlag(pool);
    try {
      const waiting = [pool.run('awaitFlag', hold), pool.run('awaitFlag', hold)];
      let third = false;
      const beyond = pool.run('add', 1, 1).then((value) => {
        third = true;
        return value;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(third).toBe(false);
      Atomics.store(hold, 0, 1);
      expect(await beyond).toBe(2);
      await Promise.all(waiting);
    } finally {
      Atomics.store(hold, 0, 1); // close() waits for them
      await pool.close();
    }
  });
});

describe('asynchronous tasks whose caller gave up', () => {
  it('never-settling tasks that timed out do not wedge the pool', async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof AsyncTasks>({
      module,
      threads: 2,
      asyncTasksPerWorker: 1,
      onError: (error) => errors.push(error),
    });
    try {
      for (let round = 0; round < 3; round++) {
        const timedOut = await Promise.all([
          rejection(pool.with({ timeout: 20 }).run('never')),
          rejection(pool.with({ timeout: 20 }).run('never')),
        ]);
        for (const error of timedOut) expect(error).toBeInstanceOf(TaskTimeoutError);
        expect(await pool.run('add', round, 1)).toBe(round + 1);
      }
      // Their slots come back: nothing stays pending or running.
      await waitFor(() => pool.pending === 0);
      expect(pool.statistics().slots.main).toMatchObject({ running: 0, queued: 0 });
      expect((await pool.snapshot()).map((worker) => worker.asyncInFlight)).toEqual([0, 0]);
      expect(errors).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('an aborted never-settling task frees its worker, and so does an abandoned batch chunk', async () => {
    const pool = await ThreadPool.create<typeof AsyncTasks>({ module, threads: 1, asyncTasksPerWorker: 1 });
    try {
      const controller = new AbortController();
      const call = pool.with({ signal: controller.signal }).run('never');
      await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      expect(await rejection(call)).toBeInstanceOf(AbortError);
      expect(await pool.run('add', 1, 2)).toBe(3);

      const batchController = new AbortController();
      const batch = pool.with({ signal: batchController.signal }).runBatch('neverOrAdd', [[0], [1], [2]]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      batchController.abort();
      expect(await rejection(batch)).toBeInstanceOf(AbortError);
      expect(await pool.run('add', 3, 4)).toBe(7);
      expect((await pool.snapshot())[0].asyncInFlight).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
