// An elastic pool (minThreads/maxThreads): the combinations of size options and their messages,
// and a pool that starts with its minimum: what it reports and which workers a broadcast reaches.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ThreadPool } from 'viscose';
import type * as ForkJoin from '../fixtures/forkjoin.mjs';

const forkjoinUrl = new URL('../fixtures/forkjoin.mjs', import.meta.url);

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
