// The pool's workerData option, read through `viscose/worker` in tasks, handlers and the module's
// top level: each worker's own structured-clone copy, shared buffers shared, sent again to a
// replacement worker, refused up front when it cannot be cloned.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ThreadPool, ThreadPoolError } from 'viscose';
import { workerData } from 'viscose/worker';
import type * as Tasks from '../fixtures/worker-data.mjs';
import { runtime } from '../support/runtime.js';

const module = new URL('../fixtures/worker-data.mjs', import.meta.url);

describe('workerData', () => {
  it('reaches every worker, in tasks and at the module top level, as a copy of its own', async () => {
    const given = { model: 'tiny', sizes: [1, 2, 3], when: new Date(0), table: new Map([['a', 1]]) };
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 3, workerData: given });
    for (const seen of [await pool.broadcast('data'), await pool.broadcast('dataAtLoad')]) {
      expect(seen).toHaveLength(3);
      for (const copy of seen) expect(copy).toMatchObject({ model: 'tiny', sizes: [1, 2, 3] });
    }
    expect(await pool.broadcast('kinds')).toEqual(Array.from({ length: 3 }, () => ({ when: 0, table: [['a', 1]] })));
    // A worker changing its copy changes neither the caller's object nor another worker's copy.
    await pool.broadcast('scribble', 'mine');
    const after = await pool.broadcast('data');
    expect(after.map((copy) => (copy as { mine: number }).mine)).toEqual([0, 1, 2]);
    expect(given).not.toHaveProperty('mine');
  });

  it('shares the SharedArrayBuffers in it', async () => {
    const shared = new SharedArrayBuffer(4);
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, workerData: { shared } });
    await pool.runBatch(
      'bump',
      Array.from({ length: 100 }, () => [1]),
    );
    await pool.broadcast('bump', 10);
    expect(new Int32Array(shared)[0]).toBe(120);
  });

  // restartWorker is refused on Deno (test/pool/fault-injection.test.ts).
  it.skipIf(runtime === 'deno')('is sent again to the worker that replaces one', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, workerData: { generation: 'first' } });
    await pool.broadcast('scribble', 'touched');
    await pool.restartWorker(1);
    const [kept, fresh] = await pool.broadcast('data');
    expect(kept).toEqual({ generation: 'first', touched: 0 });
    expect(fresh).toEqual({ generation: 'first' });
  });

  it('is read by the start handler', async () => {
    await expect(ThreadPool.create({ module, threads: 2, startHandler: 'startHandler', workerData: { refuseStartOn: 1 } })).rejects.toThrow(
      ThreadPoolError,
    );
    await expect(ThreadPool.create({ module, threads: 2, startHandler: 'startHandler', workerData: { refuseStartOn: 1 } })).rejects.toThrow(
      /workerData told worker 1 not to start/,
    );
  });

  it('is undefined without the option, and on the main thread', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    expect(await pool.run('data')).toBeUndefined();
    expect(workerData).toBeUndefined();
  });

  it.each([
    ['a function', { callback: () => 1 }],
    ['a symbol', { tag: Symbol('x') }],
  ])('refuses %s when the pool is created, naming the option', async (_what, value) => {
    const created = ThreadPool.create({ module, threads: 1, workerData: value });
    await expect(created).rejects.toThrow(InvalidOptionError);
    await expect(ThreadPool.create({ module, threads: 1, workerData: value })).rejects.toThrow(
      /^invalid option workerData: cannot be sent to a worker: /,
    );
  });
});
