// The orders in which scopes run their spawns, as Rayon's own scope tests check them (lifo_order,
// fifo_order, nested_*_order, mixed_*_order), on one thread where the order is fixed; then
// scopeFifo and spawnBroadcast under stealing, on 2 and 4 threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolClosedError, TaskError, ThreadPool } from 'viscose';
import type * as Order from '../fixtures/scope-order.mjs';
import { rejection } from '../support/rejection.js';

const module = new URL('../fixtures/scope-order.mjs', import.meta.url);

function shared(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * length));
}

/** A log for `entries` entries (see the fixture). */
function logFor(entries: number): Int32Array {
  return shared(1 + 2 * entries);
}

function values(log: Int32Array): number[] {
  return Array.from({ length: log[0] }, (_, k) => log[1 + 2 * k]);
}

/** The values each worker logged, in the order it logged them. */
function valuesByWorker(log: Int32Array): Map<number, number[]> {
  const byWorker = new Map<number, number[]>();
  for (let k = 0; k < log[0]; k++) {
    const worker = log[2 + 2 * k];
    byWorker.set(worker, [...(byWorker.get(worker) ?? []), log[1 + 2 * k]]);
  }
  return byWorker;
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);
/** i * 10 + j for i in `outer`, j in `inner`. */
const nested = (outer: number[], inner: number[]) => outer.flatMap((i) => inner.map((j) => i * 10 + j));

describe('the order of spawns on one thread (Rayon scope tests)', () => {
  let pool: ThreadPool<typeof Order>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Order>({ module, threads: 1 });
  });
  afterAll(() => pool.close());

  async function ran(task: 'flatOrder' | 'nestedOrder' | 'mixedOrder', outer: string, inner = outer): Promise<number[]> {
    const log = logFor(100);
    if (task === 'flatOrder') await pool.run(task, log, outer);
    else await pool.run(task, log, outer, inner);
    return values(log);
  }

  it('lifo_order: scope runs its spawns newest first', async () => {
    expect(await ran('flatOrder', 'lifo')).toEqual(upTo(100).reverse());
  });

  it('fifo_order: scopeFifo runs its spawns oldest first', async () => {
    expect(await ran('flatOrder', 'fifo')).toEqual(upTo(100));
  });

  it('nested_lifo_order', async () => {
    expect(await ran('nestedOrder', 'lifo', 'lifo')).toEqual(upTo(100).reverse());
  });

  it('nested_fifo_order', async () => {
    expect(await ran('nestedOrder', 'fifo', 'fifo')).toEqual(upTo(100));
  });

  it('nested_lifo_fifo_order: LIFO outside, FIFO inside', async () => {
    expect(await ran('nestedOrder', 'lifo', 'fifo')).toEqual(nested(upTo(10).reverse(), upTo(10)));
  });

  it('nested_fifo_lifo_order: FIFO outside, LIFO inside', async () => {
    expect(await ran('nestedOrder', 'fifo', 'lifo')).toEqual(nested(upTo(10), upTo(10).reverse()));
  });

  // The inner scope's wait runs outer spawns queued before its own end, so these are interleaved.
  it('mixed_lifo_order', async () => {
    expect(await ran('mixedOrder', 'lifo', 'lifo')).toEqual([-3, 2, -2, 1, -1, 3, 0]);
  });

  it('mixed_fifo_order', async () => {
    expect(await ran('mixedOrder', 'fifo', 'fifo')).toEqual([-1, 0, -2, 1, -3, 2, 3]);
  });

  it('mixed_lifo_fifo_order', async () => {
    expect(await ran('mixedOrder', 'lifo', 'fifo')).toEqual([-1, 2, -2, 1, -3, 3, 0]);
  });

  it('mixed_fifo_lifo_order', async () => {
    expect(await ran('mixedOrder', 'fifo', 'lifo')).toEqual([-3, 0, -2, 1, -1, 2, 3]);
  });

  it('a FIFO scope opened from the main thread starts its spawns oldest first', async () => {
    const log = logFor(50);
    await pool.scopeFifo((s) => {
      for (let i = 0; i < 50; i++) s.spawnFifo('log', log, i);
    });
    expect(values(log)).toEqual(upTo(50));
  });

  it('each kind of scope is visible to its tasks through its own current function', async () => {
    expect(await pool.run('visibleKinds', 'lifo')).toEqual([true, false]);
    expect(await pool.run('visibleKinds', 'fifo')).toEqual([false, true]);
  });
});

describe.each([2, 4])('scopeFifo and spawnBroadcast, %i threads', (threads) => {
  let pool: ThreadPool<typeof Order>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Order>({ module, threads });
  });
  afterAll(() => pool.close());

  it('runs every task spawned into a FIFO scope, transitively, exactly once', async () => {
    const n = 60;
    const fanout = 3;
    const counts = await pool.run('fifoTree', shared(n + n * fanout), n, fanout);
    expect(counts).toEqual(new Array(n + n * fanout).fill(1));
  });

  it('each worker starts the jobs of one spawner oldest first, stolen or not', async () => {
    for (let round = 0; round < 5; round++) {
      const log = logFor(120);
      await pool.run('flatOrderSlow', log, 120, 200);
      expect(values(log).sort((a, b) => a - b)).toEqual(upTo(120));
      for (const [, started] of valuesByWorker(log)) expect(started).toEqual([...started].sort((a, b) => a - b));
    }
  });

  it('throws the first error after every other task finished', async () => {
    const counts = shared(40);
    const error = await rejection(pool.run('fifoWithFailures', counts, 40, [5, 30]));
    expect(error).toBeInstanceOf(TaskError);
    expect(['job 5', 'job 30']).toContain(error.cause.message);
    expect(Array.from(counts).filter((count, i) => i !== 5 && i !== 30 && count === 1)).toHaveLength(38);
  });

  it.each(['lifo', 'fifo'])('spawnBroadcast in a %s scope runs once on every worker before the scope ends', async (kind) => {
    expect(await pool.run('broadcastInScope', shared(threads), kind)).toEqual(new Array(threads).fill(1));
  });

  it('spawnBroadcast from a spawned task: every part runs, and a failing part fails the scope', async () => {
    const counts = shared(threads);
    const error = await rejection(pool.run('broadcastFromSpawn', counts, 1));
    expect(error.cause.message).toBe('part on worker 1');
    expect(Array.from(counts)).toEqual(new Array(threads).fill(1));
  });

  it('pool.scope and pool.scopeFifo broadcast to every worker too', async () => {
    const counts = shared(threads);
    await pool.scope((s) => s.spawnBroadcast('countWorker', counts));
    await pool.scopeFifo((s) => s.spawnBroadcast('countWorker', counts));
    expect(Array.from(counts)).toEqual(new Array(threads).fill(2));
  });

  it('runs FIFO spawns inline, each once, when the worker has no free slot to queue them', async () => {
    // Two slots: the scope's record and one more, too few for a job and its pointer, or a broadcast.
    const small = await ThreadPool.create<typeof Order>({ module, threads, nestedTasksPerWorker: 2 });
    try {
      const counts = await small.run('fifoTree', shared(20 + 20 * 2), 20, 2);
      expect(counts).toEqual(new Array(20 + 20 * 2).fill(1));
      const error = await rejection(small.run('broadcastInScope', shared(threads), 'fifo'));
      expect(error.cause.message).toMatch(
        /spawnBroadcast to \d workers needs \d free nested slots on this worker: raise nestedTasksPerWorker/,
      );
    } finally {
      await small.close();
    }
  });

  it("refuses spawns from the main thread once the scope's body has returned", async () => {
    let later: ((name: 'countRun', counts: Int32Array, i: number) => void) | undefined;
    await pool.scopeFifo((s) => {
      later = s.spawnFifo;
    });
    expect(() => later?.('countRun', shared(1), 0)).toThrow(PoolClosedError);
  });
});
