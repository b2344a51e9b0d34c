// scope, broadcast and yieldNow inside tasks, and an in-place parallel quicksort over shared memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError, ThreadPool } from 'viscose';
import type * as ForkJoin from '../fixtures/forkjoin.mjs';
import { rejection } from '../support/rejection.js';

const module = new URL('../fixtures/forkjoin.mjs', import.meta.url);

function sharedCounts(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * length));
}

describe('scope inside a task', () => {
  let pool: ThreadPool<typeof ForkJoin>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof ForkJoin>({ module, threads: 2 });
  });
  afterAll(() => pool.close());

  it('returns only after every task spawned in it, transitively, has run exactly once', async () => {
    const n = 60;
    const fanout = 3;
    const counts = sharedCounts(n + n * fanout + 1);
    // The task reads the last counter when scope() returns; nothing may still be running then.
    await pool.run('scopeTree', counts, n, fanout);
    expect(Array.from(counts.subarray(0, n + n * fanout))).toEqual(new Array(n + n * fanout).fill(1));
  });

  it('throws the first error, after all the other tasks finished', async () => {
    const counts = sharedCounts(40);
    const error = await rejection(pool.run('scopeWithFailures', counts, 40, [7, 21]));
    expect(error).toBeInstanceOf(TaskError);
    expect(['spawn7', 'spawn21']).toContain(error.cause.message);
    const ran = Array.from(counts).filter((count, i) => i !== 7 && i !== 21 && count === 1).length;
    expect(ran).toBe(38);
  });

  it("rethrows the body's error after the tasks it spawned have run", async () => {
    const counts = sharedCounts(30);
    const error = await rejection(pool.run('scopeBodyFails', counts, 30));
    expect(error.cause.message).toBe('body failed');
    expect(Array.from(counts)).toEqual(new Array(30).fill(1));
  });

  it('runs every spawn even when the worker has no free slot to queue them', async () => {
    const small = await ThreadPool.create<typeof ForkJoin>({ module, threads: 2, nestedTasksPerWorker: 3 });
    try {
      const counts = sharedCounts(20 + 20 * 2 + 1);
      await small.run('scopeTree', counts, 20, 2);
      expect(Array.from(counts.subarray(0, 60))).toEqual(new Array(60).fill(1));
    } finally {
      await small.close();
    }
  });
});

describe.each([2, 4])('broadcast inside a task, %i threads', (threads) => {
  let pool: ThreadPool<typeof ForkJoin>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof ForkJoin>({ module, threads });
  });
  afterAll(() => pool.close());

  it('runs once on every worker, results in worker order', async () => {
    const results = await pool.run('broadcastFromTask', 'tag');
    expect(results).toEqual(Array.from({ length: threads }, (_, i) => `tag:${i}/${threads}`));
  });

  it('runs from several tasks at once', async () => {
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run('broadcastFromTask', `t${i}`)));
    for (const [i, results] of all.entries()) expect(results).toEqual(Array.from({ length: threads }, (_, w) => `t${i}:${w}/${threads}`));
  });

  it('throws the error of the lowest worker that failed', async () => {
    const error = await rejection(pool.run('broadcastFailing'));
    expect(error.cause.message).toBe('worker 1 refuses');
  });
});

describe('yieldNow', () => {
  it('reports idle when there is nothing to run', async () => {
    const pool = await ThreadPool.create<typeof ForkJoin>({ module, threads: 1 });
    try {
      expect(await pool.run('yieldOnce')).toBe('idle');
    } finally {
      await pool.close();
    }
  });
});

describe('parallel quicksort in shared memory', () => {
  it('sorts 5,000,000 Int32 values in place, equal to a sequential sort', async () => {
    const pool = await ThreadPool.create<typeof ForkJoin>({ module, threads: 2 });
    try {
      const values = new Int32Array(new SharedArrayBuffer(4 * 5_000_000));
      let seed = 12345;
      for (let i = 0; i < values.length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) | 0;
        values[i] = seed;
      }
      const expected = Int32Array.from(values).sort();
      await pool.run('quicksort', values, 0, values.length, 20_000);
      expect(Buffer.from(values.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
