// An elastic pool (minThreads/maxThreads): the combinations of size options and their messages, a
// pool that starts with its minimum (what it reports, which workers a broadcast reaches), and its
// growth while calls wait.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ThreadPool } from 'viscose';
import type * as Elastic from '../fixtures/elastic.mjs';
import type * as ForkJoin from '../fixtures/forkjoin.mjs';
import { runtime } from '../support/runtime.js';
import { waitFor } from '../support/wait-for.js';

const forkjoinUrl = new URL('../fixtures/forkjoin.mjs', import.meta.url);
const elasticUrl = new URL('../fixtures/elastic.mjs', import.meta.url);

async function refusal(options: Record<string, unknown>): Promise<InvalidOptionError> {
  const error = await ThreadPool.create({ module: forkjoinUrl, ...options }).then(
    async (pool) => {
      await pool.close();
      return expect.fail(`created a pool with ${JSON.stringify(options)}`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InvalidOptionError);
  return error as InvalidOptionError;
}

describe('size options', () => {
  it('refuses threads together with minThreads or maxThreads, naming both', async () => {
    for (const elastic of ['minThreads', 'maxThreads']) {
      const error = await refusal({ threads: 2, [elastic]: 1 });
      expect(error.option).toBe('threads');
      expect(error.message).toContain(elastic);
      expect(error.message).toContain('threads');
    }
  });

  it('refuses minThreads above maxThreads, naming both and their values', async () => {
    const error = await refusal({ minThreads: 3, maxThreads: 2 });
    expect(error.option).toBe('minThreads');
    expect(error.message).toContain('minThreads (3) must not exceed maxThreads (2)');
  });

  it('refuses counts that are not integers of at least 1', async () => {
    for (const [option, value] of [
      ['minThreads', 0],
      ['maxThreads', 0],
      ['minThreads', 1.5],
      ['maxThreads', '2'],
    ] as const) {
      const error = await refusal({ [option]: value });
      expect(error.option).toBe(option);
    }
  });

  it('fills in the other bound: maxThreads alone starts one worker, minThreads alone grows to the default', async () => {
    const defaultThreads = Number(process.env.VISCOSE_NUM_THREADS ?? 0) || availableParallelism();
    const onlyMax = await ThreadPool.create({ module: forkjoinUrl, maxThreads: 3 });
    const onlyMin = await ThreadPool.create({ module: forkjoinUrl, minThreads: 1 });
    const aboveDefault = await ThreadPool.create({ module: forkjoinUrl, minThreads: defaultThreads + 1 });
    const fixed = await ThreadPool.create({ module: forkjoinUrl, threads: 2 });
    try {
      expect(onlyMax.settings).toMatchObject({ minThreads: 1, maxThreads: 3, threads: 3 });
      expect(onlyMax.threads).toBe(1);
      expect(onlyMin.settings).toMatchObject({ minThreads: 1, maxThreads: defaultThreads });
      expect(aboveDefault.settings).toMatchObject({ minThreads: defaultThreads + 1, maxThreads: defaultThreads + 1 });
      expect(aboveDefault.threads).toBe(defaultThreads + 1);
      expect(fixed.settings).toMatchObject({ minThreads: 2, maxThreads: 2, threads: 2 });
      expect(fixed.threads).toBe(2);
    } finally {
      await Promise.all([onlyMax.close(), onlyMin.close(), aboveDefault.close(), fixed.close()]);
    }
  });
});

describe('an elastic pool at its minimum', () => {
  it('runs minThreads workers, laid out and named for maxThreads', async () => {
    const pool = await ThreadPool.create<typeof ForkJoin>({ module: forkjoinUrl, minThreads: 2, maxThreads: 4 });
    try {
      expect(pool.threads).toBe(2);
      expect(pool.settings.threads).toBe(4);
      expect(pool.threadNames).toHaveLength(4);
      expect(await pool.ping()).toEqual([0, 1]);
      expect((await pool.snapshot()).map((worker) => worker.index)).toEqual([0, 1]);
      expect(pool.statistics().workers.map((worker) => worker.index)).toEqual([0, 1]);
      await expect(pool.restartWorker(2)).rejects.toThrow(/from 0 to 1, got 2/);
    } finally {
      await pool.close();
    }
  });

  it('broadcasts, from the main thread and from a task, to the workers there are', async () => {
    const pool = await ThreadPool.create<typeof ForkJoin>({ module: forkjoinUrl, minThreads: 2, maxThreads: 4 });
    try {
      expect(await pool.broadcast('whoAreYou', 'main')).toEqual(['main:0/4', 'main:1/4']);
      expect(await pool.run('broadcastFromTask', 'task')).toEqual(['task:0/4', 'task:1/4']);
      let spawned = 0;
      await pool.scope((scope) => {
        scope.spawnBroadcast('whoAreYou', 'scope');
        spawned++;
      });
      expect(spawned).toBe(1);
      expect(pool.statistics().slots.main).toMatchObject({ queued: 0, running: 0 });
    } finally {
      await pool.close();
    }
  });
});

function sharedWords(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
}

describe('growth', () => {
  it('starts workers while calls wait and none is idle, up to maxThreads', async () => {
    const pool = await ThreadPool.create<typeof Elastic>({ module: elasticUrl, minThreads: 1, maxThreads: 3 });
    const created: number[] = [];
    pool.on('workerCreate', (worker) => created.push(worker.index));
    const counter = sharedWords(1);
    const flag = sharedWords(1);
    try {
      const calls = Array.from({ length: 5 }, () => pool.run('holdCounted', counter, flag));
      // Each held call keeps its worker busy: the pool grows until three run at once.
      await waitFor(() => Atomics.load(counter, 0) === 3);
      expect(pool.threads).toBe(3);
      expect(pool.statistics().workers.map((worker) => worker.index)).toEqual([0, 1, 2]);
      // Each worker the pool grows by is announced once it started.
      await waitFor(() => created.includes(2));
      expect(created.filter((index) => index > 0)).toEqual([1, 2]);
      Atomics.store(flag, 0, 1);
      const ran = await Promise.all(calls);
      expect(new Set(ran)).toEqual(new Set([0, 1, 2]));
      expect(pool.threads).toBe(3);
      expect(await pool.ping()).toEqual([0, 1, 2]);
      expect(await pool.broadcast('countRun', sharedWords(1), 0)).toEqual([0, 1, 2]);
    } finally {
      Atomics.store(flag, 0, 1);
      await pool.close();
    }
  });

  it('grows for forked work that nobody takes', async () => {
    const pool = await ThreadPool.create<typeof Elastic>({ module: elasticUrl, minThreads: 1, maxThreads: 2 });
    const counter = sharedWords(1);
    const flag = sharedWords(1);
    try {
      const call = pool.run('forkAndHold', counter, flag);
      await waitFor(() => Atomics.load(counter, 0) === 2);
      expect(pool.threads).toBe(2);
      Atomics.store(flag, 0, 1);
      expect(new Set(await call)).toEqual(new Set([0, 1]));
    } finally {
      Atomics.store(flag, 0, 1);
      await pool.close();
    }
  });

  it('does not grow while a worker is idle when calls arrive', async () => {
    const pool = await ThreadPool.create<typeof Elastic>({ module: elasticUrl, minThreads: 1, maxThreads: 3 });
    const runs = sharedWords(50);
    try {
      for (let i = 0; i < 50; i++) {
        // The worker has gone looking for work (or parked) by the time the next call arrives.
        await new Promise((resolve) => setTimeout(resolve, 2));
        await pool.run('countRun', runs, i);
      }
      expect(Array.from(runs)).toEqual(Array.from({ length: 50 }, () => 1));
      expect(pool.threads).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('runs every call exactly once while it grows', async () => {
    const pool = await ThreadPool.create<typeof Elastic>({ module: elasticUrl, minThreads: 1, maxThreads: 4, coalesce: 'never' });
    const n = 2000;
    const runs = sharedWords(n);
    try {
      const ran = await Promise.all(Array.from({ length: n }, (_, i) => pool.run('countRun', runs, i)));
      expect(Array.from(runs)).toEqual(Array.from({ length: n }, () => 1));
      expect(ran.every((index) => index !== undefined && index < pool.threads)).toBe(true);
      expect(pool.threads).toBeLessThanOrEqual(4);
    } finally {
      await pool.close();
    }
  });

  it('closes while a worker is starting', async () => {
    const pool = await ThreadPool.create<typeof Elastic>({ module: elasticUrl, minThreads: 1, maxThreads: 2 });
    const counter = sharedWords(1);
    const flag = sharedWords(1);
    const calls = [pool.run('holdCounted', counter, flag), pool.run('holdCounted', counter, flag)];
    await waitFor(() => Atomics.load(counter, 0) === 1 && pool.threads === 2);
    // The second worker is starting or has just started: close waits for both calls either way.
    const closed = pool.close();
    Atomics.store(flag, 0, 1);
    await closed;
    expect(await Promise.all(calls)).toHaveLength(2);
  });

  // restartWorker is not available on Deno (src/pool/termination.ts).
  it.skipIf(runtime === 'deno')('replaces a worker that crashes, keeping its size', async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Elastic>({
      module: elasticUrl,
      minThreads: 1,
      maxThreads: 2,
      onError: (error) => errors.push(error),
    });
    const counter = sharedWords(1);
    const flag = sharedWords(1);
    try {
      const outcomes = Promise.allSettled([pool.run('holdCounted', counter, flag), pool.run('holdCounted', counter, flag)]);
      await waitFor(() => Atomics.load(counter, 0) === 2);
      // The grown worker, busy with a call, is terminated and replaced at its index.
      await pool.restartWorker(1);
      expect(pool.threads).toBe(2);
      Atomics.store(flag, 0, 1);
      const settled = await outcomes;
      expect(settled.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(await pool.ping()).toEqual([0, 1]);
      expect(errors).toEqual([]);
    } finally {
      Atomics.store(flag, 0, 1);
      await pool.close();
    }
  });
});
