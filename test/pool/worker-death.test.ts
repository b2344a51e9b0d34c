// Workers that die in the middle of fork-join work: a thief holding a join's second half, a
// spawned task of a worker's scope, a task whose spawns into the main thread's scope wait in its
// deque (or FIFO lane), the owner of a scope whose tasks run elsewhere. Each time the waiter is released with the
// crash, every task still queued runs exactly once, the pool replaces the worker, and no slot is
// left stuck.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, TaskError, ThreadPool, WorkerCrashedError } from 'viscose';
import type * as Crashes from '../fixtures/crashes.mjs';
import { expectSlotTableWhole } from '../support/slot-table.js';
import { waitFor } from '../support/wait-for.js';

const crashesUrl = new URL('../fixtures/crashes.mjs', import.meta.url);

async function withPool(test: (pool: ThreadPool<typeof Crashes>, errors: Error[]) => Promise<void>): Promise<void> {
  const errors: Error[] = [];
  const pool = await ThreadPool.create<typeof Crashes>({
    module: crashesUrl,
    threads: 2,
    nestedTasksPerWorker: 64,
    onError: (error) => errors.push(error),
  });
  try {
    await test(pool, errors);
  } finally {
    await pool.close();
  }
}

function counters(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
}

/** The task rejected with a TaskError whose cause is the crash of a worker. */
async function expectCrashInside(call: Promise<unknown>, exitCode: number): Promise<void> {
  const error = await call.then(
    () => expect.fail('the call should have failed'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TaskError);
  expect((error as TaskError).cause).toMatchObject({ name: 'WorkerCrashedError', exitCode });
}

/** Work that forks through every worker's region afterwards: the regions are usable again. */
async function expectForkJoinStillWorks(pool: ThreadPool<typeof Crashes>): Promise<void> {
  const sums = await Promise.all(Array.from({ length: 4 }, () => pool.run('joinSum', 0, 200_000, 500)));
  expect(sums).toEqual(Array.from({ length: 4 }, () => (200_000 * 199_999) / 2));
}

describe('a worker dies in the middle of fork-join work', () => {
  it('a join whose stolen half dies is released with the crash', async () => {
    await withPool(async (pool, errors) => {
      await expectCrashInside(pool.run('joinWhereThiefDies', 300), 3);
      await expectSlotTableWhole(pool, 2);
      await expectForkJoinStillWorks(pool);
      // The joiner's caller saw the crash: it is not reported as unseen.
      expect(errors).toEqual([]);
    });
  });

  it.each(['lifo', 'fifo'])(
    "a worker's %s scope whose spawned task dies fails with the crash, after every other task ran once",
    async (kind) => {
      await withPool(async (pool) => {
        const counts = counters(30);
        await expectCrashInside(pool.run('scopeWhereSpawnDies', counts, 30, 300, kind), 3);
        expect([...counts]).toEqual(Array.from({ length: 30 }, () => 1));
        await expectSlotTableWhole(pool, 2);
        await expectForkJoinStillWorks(pool);
      });
    },
  );

  it.each(['lifo', 'fifo'])(
    "tasks spawned into the main thread's %s scope and left in a dead worker's deque still run once",
    async (kind) => {
      await withPool(async (pool) => {
        const counts = counters(40);
        const scope =
          kind === 'fifo'
            ? pool.scopeFifo((s) => s.spawnFifo('spawnThenDie', counts, 40, 2))
            : pool.scope((s) => s.spawn('spawnThenDie', counts, 40, 2));
        await expect(scope).rejects.toBeInstanceOf(TaskError);
        await expect(scope).rejects.toMatchObject({ cause: { name: 'WorkerCrashedError', exitCode: 4 } });
        // The scope settles only once every part finished, the orphaned spawns included.
        expect([...counts]).toEqual(Array.from({ length: 40 }, () => 1));
        await expectSlotTableWhole(pool, 2);
        await expectForkJoinStillWorks(pool);
      });
    },
  );

  it.each(['lifo', 'fifo'])('the tasks of a %s scope whose owner died run once; its record is freed by the successor', async (kind) => {
    await withPool(async (pool) => {
      const counts = counters(40);
      const call = pool.run('scopeOwnerDies', counts, 40, 5, kind);
      await expect(call).rejects.toBeInstanceOf(WorkerCrashedError);
      await expect(call).rejects.toMatchObject({ exitCode: 5 });
      await waitFor(() => counts.every((count) => count === 1));
      await expectSlotTableWhole(pool, 2);
      // Enough forking to make the successor run out of free slots and collect the orphans.
      for (let round = 0; round < 3; round++) await expectForkJoinStillWorks(pool);
      expect([...counts]).toEqual(Array.from({ length: 40 }, () => 1));
    });
  });
});

describe('retries for idempotent tasks', () => {
  it('runs a call again when its worker dies under it, up to the number of retries', async () => {
    await withPool(async (pool) => {
      const attempts = counters(1);
      expect(await pool.with({ retries: 2 }).run('crashFirst', attempts, 2)).toBe(3);

      const again = counters(1);
      const call = pool.with({ retries: 1 }).run('crashFirst', again, 2);
      await expect(call).rejects.toBeInstanceOf(WorkerCrashedError);
      await expect(call).rejects.toMatchObject({ exitCode: 6 });
      expect(again[0]).toBe(2);
    });
  });

  it('replaces, again and again, workers that die of the first task they take', async () => {
    // Each replacement takes the retried call as soon as its loop starts, and dies of it: often
    // before its start report reaches the main thread (on Deno, in most rounds). Such a worker
    // did start, and must be replaced like any other, not given up as one that cannot load.
    await withPool(async (pool, errors) => {
      const attempts = counters(1);
      expect(await pool.with({ retries: 30 }).run('crashFirst', attempts, 30)).toBe(31);
      expect(errors.filter((error) => /could not be restarted/.test(error.message))).toEqual([]);
      await expectSlotTableWhole(pool, 2);
    });
  });

  it('does not retry a task that threw, nor a call made without retries', async () => {
    await withPool(async (pool) => {
      const attempts = counters(1);
      await expect(pool.with({ retries: 3 }).run('throwFirst', attempts)).rejects.toThrow('first attempt fails');
      expect(attempts[0]).toBe(1);
      const once = counters(1);
      await expect(pool.run('crashFirst', once, 1)).rejects.toBeInstanceOf(WorkerCrashedError);
      expect(once[0]).toBe(1);
    });
  });

  it('runs again the chunk of a batch whose worker died, and the batch completes', async () => {
    await withPool(async (pool) => {
      const attempts = counters(1);
      const items = Array.from({ length: 500 }, (_, i) => [attempts, i, 321] as [Int32Array, number, number]);
      expect(await pool.with({ retries: 1 }).runBatch('doubleOrCrashOnce', items)).toEqual(items.map(([, i]) => 2 * i));
      expect(attempts[0]).toBe(2);
      const settled = await pool.with({ retries: 1 }).runBatchSettled('doubleOrCrashOnce', items.slice(0, 10));
      expect(settled.every((result) => result.status === 'fulfilled')).toBe(true);
    });
  });

  it('runs again one call per slot the chunk of a settled batch whose worker died, so a poison call fails alone', async () => {
    await withPool(async (pool) => {
      const retrying: number[] = [];
      const ran: number[] = [];
      const observer = { retrying: (calls: number) => retrying.push(calls), ran: (_ms: number, calls: number) => ran.push(calls) };
      const items = Array.from({ length: 10 }, (_, i) => [i, 3] as [number, number]);
      const settled = await pool.with({ retries: 2, chunkSize: 5, observer }).runBatchSettled('doubleOrAlwaysCrash', items);
      settled.forEach((result, i) => {
        if (i === 3) expect(result).toMatchObject({ status: 'rejected', reason: expect.any(WorkerCrashedError) });
        else expect(result).toEqual({ status: 'fulfilled', value: 2 * i });
      });
      // The chunk [0, 5) crashed and ran again as five calls; call 3 crashed again and ran once more.
      expect(retrying).toEqual([5, 1]);
      expect(ran.sort()).toEqual([1, 1, 1, 1, 5]);
    });
  });

  it('refuses a retry count that is not a whole number of 0 or more', async () => {
    await withPool(async (pool) => {
      for (const retries of [-1, 1.5, Number.NaN, '2']) {
        expect(() => pool.with({ retries: retries as number })).toThrow(InvalidOptionError);
      }
    });
  });
});
