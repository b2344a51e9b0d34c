// A parallel iterator could not be stopped: `pool.parIter(range(0, 2 ** 40)).count()` ran for
// hours, `with({ signal, timeout })` offered no parIter, and only terminate() ended it. Now a
// pipeline started through `with()` rejects with TaskTimeoutError or AbortError, every piece
// (stolen ones on other workers too) stops at its next look at the root's cancel flag, and the pool
// is whole afterwards. A task whose own call is cancelled stops the pipeline it runs as well.
import { describe, expect, it } from 'vitest';
import { AbortError, TaskTimeoutError, ThreadPool, range } from 'viscose';
import type * as Stop from '../../fixtures/par-iter-stop.mjs';
import { rejection } from '../../support/rejection.js';
import { waitFor } from '../../support/wait-for.js';

const module = new URL('../../fixtures/par-iter-stop.mjs', import.meta.url);
const ENDLESS = 2 ** 40;

async function withPool(threads: number, test: (pool: ThreadPool<typeof Stop>, started: Int32Array) => Promise<void>): Promise<void> {
  const pool = await ThreadPool.create<typeof Stop>({ module, threads });
  const started = new Int32Array(new SharedArrayBuffer(4));
  try {
    // Announced before the pipeline refers to it.
    await pool.parIter(range(0, 1)).filter('markStarted', started).count();
    Atomics.store(started, 0, 0);
    await test(pool, started);
    await expectWhole(pool, threads, started);
  } finally {
    await pool.close();
  }
}

/** Another pipeline gives the right answer, and nothing is left queued or running anywhere. */
async function expectWhole(pool: ThreadPool<typeof Stop>, threads: number, started: Int32Array): Promise<void> {
  expect(await pool.parIter(range(0, 100_000)).filter('markStarted', started).count()).toBe(100_000);
  // The stopped call's own slot comes back once its root piece has returned and the main thread has
  // read that, which may be after the call rejected.
  await waitFor(async () => {
    if ((await pool.ping()).length !== threads) return false;
    const { main, nested } = pool.statistics().slots;
    return main.free === main.capacity && nested.free + nested.finished === nested.capacity;
  });
  const { main, nested } = pool.statistics().slots;
  expect(main).toMatchObject({ free: main.capacity, queued: 0, running: 0, openScopes: 0 });
  expect(nested).toMatchObject({ queued: 0, running: 0, openScopes: 0 });
  expect(nested.free + nested.finished).toBe(nested.capacity);
}

describe.each([1, 2])('an endless parallel iterator on %i thread(s)', (threads) => {
  it('rejects with TaskTimeoutError once its timeout passes', async () => {
    await withPool(threads, async (pool) => {
      const error = await rejection(pool.with({ timeout: 100 }).parIter(range(0, ENDLESS)).count());
      expect(error).toBeInstanceOf(TaskTimeoutError);
    });
  }, 20_000);

  it('rejects with AbortError when its signal aborts after it started', async () => {
    await withPool(threads, async (pool, started) => {
      const controller = new AbortController();
      const counting = pool.with({ signal: controller.signal }).parIter(range(0, ENDLESS)).filter('markStarted', started).count();
      await waitFor(() => Atomics.load(started, 0) === 1);
      controller.abort();
      expect(await rejection(counting)).toBeInstanceOf(AbortError);
    });
  }, 20_000);

  it('stops inside a task whose call times out', async () => {
    await withPool(threads, async (pool, started) => {
      const error = await rejection(pool.with({ timeout: 100 }).run('countForever', started));
      expect(error).toBeInstanceOf(TaskTimeoutError);
    });
  }, 20_000);
});
