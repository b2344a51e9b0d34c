// maxQueue: a call that would wait for a slot behind maxQueue others is refused at once with
// QueueFullError, whatever its priority; the calls accepted before it all run.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, QueueFullError, ThreadPool } from 'viscose';
import type * as Tasks from '../fixtures/pool-events.mjs';
import { openGate, shutGate } from '../support/gate.js';
import { rejection } from '../support/rejection.js';

const module = new URL('../fixtures/pool-events.mjs', import.meta.url);

/** A pool of one worker and one slot, the slot taken by a call held at `g`. */
async function fullPool(maxQueue: number, g: Int32Array) {
  const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPendingTasks: 1, maxQueue, coalesce: 'never' });
  const holder = pool.run('held', g, 'holder');
  return { pool, holder };
}

describe('maxQueue', () => {
  it('refuses a newcomer of any priority once maxQueue calls wait, and runs every call it accepted', async () => {
    const g = shutGate();
    const { pool, holder } = await fullPool(2, g);
    await using _ = pool;
    const low = pool.with({ priority: 'low' }).run('held', g, 'low');
    const normal = pool.run('held', g, 'normal');
    const high = rejection(pool.with({ priority: 'high' }).run('held', g, 'high'));
    const lowToo = rejection(pool.with({ priority: 'low' }).run('held', g, 'low too'));
    // Refused while the gate is still shut: at once, not when something finishes.
    const [refusedHigh, refusedLow] = await Promise.all([high, lowToo]);
    for (const error of [refusedHigh, refusedLow]) {
      expect(error).toBeInstanceOf(QueueFullError);
      expect(error).toMatchObject({ code: 'VISCOSE_QUEUE_FULL', maxQueue: 2 });
    }
    expect(pool.pending).toBe(3);
    openGate(g);
    expect(await Promise.all([holder, low, normal])).toEqual(['holder', 'low', 'normal']);
    expect(pool.pending).toBe(0);
  });

  it('takes a call again once one of the waiting ones has a slot', async () => {
    const g = shutGate();
    const { pool, holder } = await fullPool(1, g);
    await using _ = pool;
    const waiting = pool.run('held', g, 'waiting');
    expect(await rejection(pool.run('held', g, 'refused'))).toBeInstanceOf(QueueFullError);
    openGate(g);
    expect(await Promise.all([holder, waiting])).toEqual(['holder', 'waiting']);
    expect(await pool.run('add', 2, 3)).toBe(5);
  });

  it("counts a batch's chunks: those beyond the limit are refused, the others run", async () => {
    const g = shutGate();
    const { pool, holder } = await fullPool(2, g);
    await using _ = pool;
    const settled = pool.with({ chunkSize: 1 }).runBatchSettled(
      'held',
      Array.from({ length: 5 }, (_, i): [Int32Array, number] => [g, i]),
    );
    const failed = rejection(pool.with({ chunkSize: 1 }).runBatch('held', [[g, 9]]));
    expect(await failed).toBeInstanceOf(QueueFullError);
    openGate(g);
    const results = await settled;
    expect(results.slice(0, 2)).toEqual([
      { status: 'fulfilled', value: 0 },
      { status: 'fulfilled', value: 1 },
    ]);
    for (const result of results.slice(2)) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
    }
    expect(await holder).toBe('holder');
    expect(pool.pending).toBe(0);
  });

  it('with 0, refuses every call that would wait, and a scope waiting for its record', async () => {
    const g = shutGate();
    const { pool, holder } = await fullPool(0, g);
    await using _ = pool;
    expect(await rejection(pool.run('add', 1, 1))).toBeInstanceOf(QueueFullError);
    let bodyRan = false;
    const refusedScope = await rejection(
      pool.scope(() => {
        bodyRan = true;
      }),
    );
    expect(refusedScope).toBeInstanceOf(QueueFullError);
    expect(bodyRan).toBe(false);
    openGate(g);
    expect(await holder).toBe('holder');
    expect(await pool.run('add', 1, 1)).toBe(2);
  });

  it('is checked', async () => {
    for (const maxQueue of [-1, 1.5, '3', Number.NaN]) {
      const error = await rejection(ThreadPool.create({ module, threads: 1, maxQueue: maxQueue as number }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(/maxQueue/);
    }
    await using pool = await ThreadPool.create({ module, threads: 1, maxQueue: Number.POSITIVE_INFINITY });
    expect(pool.settings.maxQueue).toBe(Number.POSITIVE_INFINITY);
  });
});
