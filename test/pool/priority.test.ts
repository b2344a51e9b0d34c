// Priorities through a real pool: queued work of higher priority starts first, both among calls
// waiting for a slot (main thread) and in the injector (workers), and low priority still progresses.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ThreadPool } from 'viscose';
import type * as Tasks from '../fixtures/tasks.mjs';
import { STARVATION_BOUND } from '../../src/queue/priority.js';

const module = new URL('../fixtures/tasks.mjs', import.meta.url);

/**
 * A flag and a counter in one shared buffer, already known to the pool's workers: a call that
 * refers to a buffer the workers have not seen waits for it to be announced, which would let the
 * calls behind it overtake it.
 */
async function sharedWords(pool: ThreadPool<typeof Tasks>): Promise<[flag: Int32Array, counter: Int32Array]> {
  const buffer = new SharedArrayBuffer(8);
  const flag = new Int32Array(buffer, 0, 1);
  const counter = new Int32Array(buffer, 4, 1);
  await pool.run('ticket', counter);
  counter[0] = 0;
  return [flag, counter];
}

/**
 * Holds the pool's only worker, queues `lows` low-priority then `highs` high-priority ticket
 * calls, releases the worker, and returns the priorities in the order the calls started.
 */
async function startOrder(pool: ThreadPool<typeof Tasks>, lows: number, highs: number): Promise<string[]> {
  const [flag, counter] = await sharedWords(pool);
  const held = pool.run('holdUntil', flag);
  // With two slots, this takes the second: every call below waits for one.
  const filler = pool.run('add', 1, 1);
  const low = Array.from({ length: lows }, () => pool.with({ priority: 'low' }).run('ticket', counter));
  const high = Array.from({ length: highs }, () => pool.with({ priority: 'high' }).run('ticket', counter));
  Atomics.store(flag, 0, 1);
  await Promise.all([held, filler]);
  const order: string[] = [];
  for (const ticket of await Promise.all(low)) order[ticket] = 'low';
  for (const ticket of await Promise.all(high)) order[ticket] = 'high';
  return order;
}

function checkOrder(order: string[], highs: number): void {
  expect(order.filter((priority) => priority === 'high')).toHaveLength(highs);
  // High first; the first low after at most STARVATION_BOUND + 1 passes where it waited, plus one
  // high call that already sat in the injector when the low one got its slot. (The call that holds
  // or fills the pool may count as one pass over the low ones when it is taken after them.)
  const firstLow = order.indexOf('low');
  expect(firstLow).toBeGreaterThanOrEqual(STARVATION_BOUND - 1);
  expect(firstLow).toBeLessThanOrEqual(STARVATION_BOUND + 2);
}

describe('priorities', () => {
  it('start waiting calls of higher priority first, and the low ones within the starvation bound', async () => {
    // Two slots: one holds the worker, so every other call waits for a slot on the main thread.
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPendingTasks: 2 });
    try {
      checkOrder(await startOrder(pool, 10, 10), 10);
    } finally {
      await pool.close();
    }
  });

  it('take queued work from the injector by priority, within the same bound', async () => {
    // Plenty of slots: every call is in the injector when the worker looks.
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPendingTasks: 64 });
    try {
      checkOrder(await startOrder(pool, 10, 10), 10);
    } finally {
      await pool.close();
    }
  });

  it('keep low priority progressing under a constant stream of high-priority calls', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPendingTasks: 4 });
    try {
      const [, counter] = await sharedWords(pool);
      let lowDone = false;
      let highsBeforeLow = 0;
      const low = pool
        .with({ priority: 'low' })
        .run('ticket', counter)
        .then(() => (lowDone = true));
      // Keep four high-priority calls outstanding until the low one has run.
      const stream = async () => {
        while (!lowDone) {
          await pool.with({ priority: 'high' }).run('spin', 1);
          if (!lowDone) highsBeforeLow++;
        }
      };
      await Promise.all([low, stream(), stream(), stream(), stream()]);
      // Passed over at most STARVATION_BOUND + 1 times at each of the two places that choose.
      expect(highsBeforeLow).toBeLessThanOrEqual(2 * (STARVATION_BOUND + 1) + 4);
    } finally {
      await pool.close();
    }
  });

  it('refuse an unknown priority or call option', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    try {
      expect(() => pool.with({ priority: 'urgent' as never })).toThrow(InvalidOptionError);
      expect(() => pool.with({ deadline: 5 } as never)).toThrow(InvalidOptionError);
      expect(await pool.with({}).run('add', 1, 2)).toBe(3);
      expect(
        await pool.with({ priority: 'low' }).runBatch('add', [
          [1, 2],
          [3, 4],
        ]),
      ).toEqual([3, 7]);
    } finally {
      await pool.close();
    }
  });
});
