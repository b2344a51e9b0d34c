// join, scope and broadcast from the main thread: the same semantics as inside a task, as promises.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolClosedError, TaskError, ThreadPool } from 'viscose';
import type * as ForkJoin from '../fixtures/forkjoin.mjs';
import { rejection } from '../support/rejection.js';

const module = new URL('../fixtures/forkjoin.mjs', import.meta.url);

function sharedCounts(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * length));
}

describe('from the main thread', () => {
  let pool: ThreadPool<typeof ForkJoin>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof ForkJoin>({ module, threads: 2 });
  });
  afterAll(() => pool.close());

  it('join runs both calls and returns both results', async () => {
    expect(await pool.join(['fib', 22, 6], ['fib', 21, 6])).toEqual([17711, 10946]);
  });

  it("join rejects with the first call's error when both fail, after both ran", async () => {
    const counts = sharedCounts(1);
    const error = await rejection(pool.join(['failAfter', 1, 'first'], ['mark', counts, 0, 20]));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.message).toBe('first');
    expect(counts[0]).toBe(1);
    const both = await rejection(pool.join(['fail', 'a'], ['fail', 'b']));
    expect(both.cause.message).toBe('a');
  });

  it('scope resolves with the body result once every spawned task, transitively, ran exactly once', async () => {
    const n = 40;
    const counts = sharedCounts(n + n * 2);
    const result = await pool.scope((s) => {
      for (let i = 0; i < n; i++) s.spawn('spawnMore', counts, i, 2, n);
      return 'body done';
    });
    expect(result).toBe('body done');
    expect(Array.from(counts)).toEqual(new Array(n + n * 2).fill(1));
  });

  it('scope waits for an asynchronous body and for tasks spawned after an await', async () => {
    const counts = sharedCounts(10);
    await pool.scope(async (s) => {
      for (let i = 0; i < 5; i++) s.spawn('mark', counts, i, 2);
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (let i = 5; i < 10; i++) s.spawn('mark', counts, i, 2);
    });
    expect(Array.from(counts)).toEqual(new Array(10).fill(1));
  });

  it('scope rejects with a TaskError naming the first failing task, after the rest ran', async () => {
    const counts = sharedCounts(20);
    const error = await rejection(
      pool.scope((s) => {
        s.spawn('failAfter', 2, 'boom');
        for (let i = 0; i < 20; i++) s.spawn('mark', counts, i, 3);
      }),
    );
    expect(error).toBeInstanceOf(TaskError);
    expect(error.task).toBe('failAfter');
    expect(error.cause.message).toBe('boom');
    expect(Array.from(counts)).toEqual(new Array(20).fill(1));
  });

  it("scope rejects with the body's own error, after its tasks ran", async () => {
    const counts = sharedCounts(8);
    const error = await rejection(
      pool.scope((s) => {
        for (let i = 0; i < 8; i++) s.spawn('mark', counts, i, 3);
        throw new RangeError('body broke');
      }),
    );
    expect(error).toBeInstanceOf(RangeError);
    expect(Array.from(counts)).toEqual(new Array(8).fill(1));
  });

  it('refuses spawns once the body has returned', async () => {
    let escaped: { spawn(name: 'mark', ...args: unknown[]): void } | undefined;
    await pool.scope((s) => {
      escaped = s as never;
    });
    expect(() => escaped!.spawn('mark', sharedCounts(1), 0)).toThrow(PoolClosedError);
  });

  it('broadcast runs once per worker, results in worker order', async () => {
    expect(await pool.broadcast('whoAreYou', 'main')).toEqual(['main:0/2', 'main:1/2']);
  });

  it('broadcast rejects with the failure of the lowest worker, after all parts ran', async () => {
    const error = await rejection(pool.broadcast('failOn', 1));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.worker).toBe('viscose-1');
    expect(error.cause.message).toBe('worker 1 refuses');
  });

  it('broadcasts many at once, more than a mailbox holds', async () => {
    const all = await Promise.all(Array.from({ length: 150 }, (_, i) => pool.broadcast('whoAreYou', `m${i}`)));
    for (const [i, results] of all.entries()) expect(results).toEqual([`m${i}:0/2`, `m${i}:1/2`]);
  });
});
