// The pool's events: needsDrain and drain around a burst that fills every slot, workerCreate and
// workerExit for first workers, replacements and every way a worker goes, and the error event,
// which never throws for want of a listener.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type PoolEvents, ThreadPool, type WorkerCreated, type WorkerExited, WorkerCrashedError } from 'viscose';
import type * as Tasks from '../fixtures/pool-events.mjs';
import { openGate, shutGate } from '../support/gate.js';
import { rejection } from '../support/rejection.js';
import { runtime } from '../support/runtime.js';
import { waitFor } from '../support/wait-for.js';

const module = new URL('../fixtures/pool-events.mjs', import.meta.url);
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Every event of `names` that `pool` emits, in order. */
function record(pool: ThreadPool<typeof Tasks>, names: (keyof PoolEvents)[]): [string, unknown][] {
  const seen: [string, unknown][] = [];
  for (const name of names) pool.on(name, (...args: unknown[]) => seen.push([name, args[0]]));
  return seen;
}

describe('drain and needsDrain', () => {
  it('announce once that every slot is taken, and once that one is free again, whatever the burst', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPendingTasks: 2, coalesce: 'never' });
    const seen = record(pool, ['drain', 'needsDrain']);
    const g = shutGate();
    expect(pool.needsDrain).toBe(false);
    const first = pool.run('held', g, 0);
    await turn();
    expect(seen).toEqual([]);
    const calls = [first, ...Array.from({ length: 9 }, (_, i) => pool.run('held', g, i + 1))];
    expect(pool.needsDrain).toBe(true);
    const drained = pool.drain();
    await turn();
    expect(seen).toEqual([['needsDrain', undefined]]);
    openGate(g);
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await drained;
    await waitFor(() => seen.length === 2);
    expect(seen.map(([name]) => name)).toEqual(['needsDrain', 'drain']);
    expect(pool.needsDrain).toBe(false);
  });

  it('resolve drain() at once while a slot is free', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    await pool.drain();
    expect(await pool.run('add', 1, 2)).toBe(3);
  });

  it('alternate strictly over bursts that come one after the other', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPendingTasks: 2, coalesce: 'never' });
    const seen = record(pool, ['drain', 'needsDrain']);
    for (let burst = 1; burst <= 3; burst++) {
      const g = shutGate();
      const calls = Array.from({ length: 4 }, (_, i) => pool.run('held', g, i));
      await turn();
      expect(seen).toHaveLength(2 * burst - 1);
      openGate(g);
      await Promise.all(calls);
      await waitFor(() => seen.length === 2 * burst);
    }
    expect(seen.map(([name]) => name)).toEqual(['needsDrain', 'drain', 'needsDrain', 'drain', 'needsDrain', 'drain']);
  });
});

describe('worker events', () => {
  it('announce the first workers after create() and each replacement after its predecessor', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, threadNamePrefix: 'ev' });
    const seen = record(pool, ['workerCreate', 'workerExit']);
    await turn();
    const first = seen.map(([, worker]) => worker as WorkerCreated);
    expect(first.map(({ index, name }) => [index, name])).toEqual([
      [0, 'ev-0'],
      [1, 'ev-1'],
    ]);
    expect(new Set(first.map(({ threadId }) => threadId)).size).toBe(2);
    if (runtime === 'deno') return; // restartWorker is not available there
    seen.length = 0;
    await pool.restartWorker(1);
    expect(seen.map(([name, worker]) => [name, (worker as WorkerCreated).index])).toEqual([
      ['workerExit', 1],
      ['workerCreate', 1],
    ]);
    const exited = seen[0][1] as WorkerExited;
    expect(exited).toMatchObject({ index: 1, name: 'ev-1', why: 'restarted', threadId: first[1].threadId });
    expect((seen[1][1] as WorkerCreated).threadId).not.toBe(first[1].threadId);
  });

  it('tell a crash, with its exit code, then the replacement; and every worker as closed at the end', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const seen = record(pool, ['workerCreate', 'workerExit']);
    await turn();
    seen.length = 0;
    expect(await rejection(pool.run('exitNow', 7))).toBeInstanceOf(WorkerCrashedError);
    await waitFor(() => seen.length === 2);
    const [[exitName, exit], [createName, created]] = seen as [string, WorkerExited][];
    expect([exitName, createName]).toEqual(['workerExit', 'workerCreate']);
    expect(exit).toMatchObject({ why: 'crashed', exitCode: 7 });
    expect(created.index).toBe(exit.index);
    seen.length = 0;
    await pool.close();
    await waitFor(() => seen.length === 2);
    expect(seen.map(([name, worker]) => [name, (worker as WorkerExited).why]).sort()).toEqual([
      ['workerExit', 'closed'],
      ['workerExit', 'closed'],
    ]);
  });
});

describe('the error event', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('receives the crash of an idle worker, and replaces the warning', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const errors: Error[] = [];
    pool.on('error', (error) => errors.push(error));
    expect(await pool.run('exitWhenIdle', 20, 9)).toBe('returned');
    await waitFor(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(WorkerCrashedError);
    expect(errors[0]).toMatchObject({ exitCode: 9 });
    expect(await pool.run('add', 2, 2)).toBe(4);
    await turn();
    expect(warnings.filter((warning) => warning instanceof WorkerCrashedError)).toEqual([]);
  });

  it('goes to onError as well when both are there', async () => {
    const handled: Error[] = [];
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, onError: (error) => handled.push(error) });
    const heard: Error[] = [];
    pool.on('error', (error) => heard.push(error));
    pool.spawn('exitNow', 3);
    await waitFor(() => heard.length === 1 && handled.length === 1);
    expect(heard[0]).toBe(handled[0]);
    expect(heard[0]).toBeInstanceOf(WorkerCrashedError);
  });

  it('becomes a process warning, never a throw, with neither a listener nor onError', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    expect(await pool.run('exitWhenIdle', 20, 4)).toBe('returned');
    await waitFor(() => warnings.some((warning) => warning instanceof WorkerCrashedError));
    expect(await pool.run('add', 1, 1)).toBe(2);
  });
});
