/**
 * Calls made in the same turn travel together (src/pool/coalescer.ts): the decision (a lone call
 * goes at once, later calls of a short task wait for the end of the turn, long tasks never share)
 * and that every call keeps its own outcome. `statistics().submitted` counts calls as they are
 * queued; the workers' `tasksRun` counts the slots they ran.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, PoolClosedError, TaskError, ThreadPool, WorkerCrashedError } from 'viscose';
import type * as Crashes from '../fixtures/crashes.mjs';
import type * as Tasks from '../fixtures/tasks.mjs';

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);
const crashesUrl = new URL('../fixtures/crashes.mjs', import.meta.url);

/** Slots the pool's workers have run. */
function slotsRun(pool: Pick<ThreadPool, 'statistics'>): number {
  return pool.statistics().workers.reduce((sum, worker) => sum + worker.tasksRun, 0);
}

/** Enough calls, one at a time, for the pool to know what a call of each task costs. */
async function learn(pool: ThreadPool<typeof Tasks>): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await pool.run('add', i, 1);
    await pool.run('echo', i);
    await pool.run('fail', 'learning').catch(() => {});
  }
}

describe('calls of one turn', () => {
  // 'always': what is tested here must not hang on how long a call ran on a loaded machine.
  let pool: ThreadPool<typeof Tasks>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, statistics: true, coalesce: 'always' });
  });
  afterAll(() => pool.close());

  it('send the first call at once, and the later ones together at the end of the turn', async () => {
    pool.resetStatistics();
    const slots = slotsRun(pool);
    // Calls are counted as they are queued, synchronously: the first is queued at once.
    const first = pool.run('add', 1, 2);
    expect(pool.statistics().submitted).toBe(1);
    const later = [pool.run('add', 2, 3), pool.run('add', 3, 4), pool.run('add', 4, 5)];
    // Waiting for company, not yet queued.
    expect(pool.statistics().submitted).toBe(1);
    await Promise.resolve();
    expect(pool.statistics().submitted).toBe(4);
    expect(await first).toBe(3);
    expect(await Promise.all(later)).toEqual([5, 7, 9]);
    expect(slotsRun(pool) - slots).toBe(2);
    expect(pool.statistics().completed).toBe(4);
  });

  it('send a call of each turn at once when calls come one per turn', async () => {
    pool.resetStatistics();
    for (let i = 0; i < 20; i++) {
      const call = pool.run('add', i, 1);
      expect(pool.statistics().submitted).toBe(i + 1);
      expect(await call).toBe(i + 1);
    }
    expect(pool.statistics().submitted).toBe(20);
  });

  it('keep each call’s own result, error, abort, time limit and priority in a mixed burst', async () => {
    pool.resetStatistics();
    const slots = slotsRun(pool);
    const controller = new AbortController();
    const calls: Promise<unknown>[] = [];
    const count = 600;
    for (let i = 0; i < count; i++) {
      if (i % 6 === 0) calls.push(pool.run('add', i, 1));
      else if (i % 6 === 1) calls.push(pool.run('fail', `failure ${i}`, `E${i}`));
      else if (i % 6 === 2) calls.push(pool.with({ priority: 'high' }).run('add', i, 2));
      else if (i % 6 === 3) calls.push(pool.with({ signal: controller.signal }).run('add', i, 3));
      else if (i % 6 === 4) calls.push(pool.with({ timeout: 60_000 }).run('add', i, 4));
      else calls.push(pool.with({ priority: 'low' }).run('echo', { i, nested: [i, `${i}`] }));
    }
    controller.abort(new Error('stop'));
    const settled = await Promise.allSettled(calls);
    settled.forEach((result, i) => {
      const kind = i % 6;
      if (kind === 1) {
        expect(result.status, `call ${i}`).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason;
        expect(error).toBeInstanceOf(TaskError);
        expect(error.index).toBeUndefined();
        expect(error.cause).toMatchObject({ message: `failure ${i}`, code: `E${i}` });
      } else if (kind === 3) {
        // Aborted after the loop: it may have finished while later calls were being made.
        if (result.status === 'fulfilled') expect(result.value, `call ${i}`).toBe(i + 3);
        else expect(result.reason, `call ${i}`).toBeInstanceOf(AbortError);
      } else if (kind === 5) {
        expect(result, `call ${i}`).toEqual({ status: 'fulfilled', value: { i, nested: [i, `${i}`] } });
      } else {
        expect(result, `call ${i}`).toEqual({ status: 'fulfilled', value: i + [1, 0, 2, 0, 4][kind] });
      }
    });
    // The calls with a signal or a time limit went alone; the others shared slots.
    expect(slotsRun(pool) - slots).toBeLessThan(2 * (count / 6) + 20);
    const statistics = pool.statistics();
    expect(statistics.submitted).toBe(count);
    expect(statistics.failed).toBe(count / 6);
    expect(statistics.completed + statistics.failed + statistics.cancelled).toBe(count);
  });

  it('tell each observer the run time of its calls in a shared slot, once for them all', async () => {
    const told: [string, number, number][] = [];
    const watched = (tag: string) => pool.with({ observer: { ran: (runMs, calls) => told.push([tag, runMs, calls]) } });
    const slots = slotsRun(pool);
    const [a, b] = [watched('a'), watched('b')];
    const burst = [a.run('add', 0, 0), a.run('add', 1, 1), a.run('add', 2, 2), b.run('add', 3, 3), b.run('add', 4, 4)];
    expect(await Promise.all(burst)).toEqual([0, 2, 4, 6, 8]);
    // The first call went alone; the other four shared one slot, 'a's one call and 'b's two.
    expect(slotsRun(pool) - slots).toBe(2);
    // The two slots may finish in either order, on two workers.
    const byTag = (tag: string) => told.filter(([told]) => told === tag).map(([, runMs, calls]) => ({ runMs, calls }));
    expect(
      byTag('a')
        .map(({ calls }) => calls)
        .sort(),
    ).toEqual([1, 2]);
    expect(byTag('b').map(({ calls }) => calls)).toEqual([2]);
    for (const [, runMs] of told) expect(runMs).toBeGreaterThanOrEqual(0);
    // A shared slot's time is split by calls: 'a's two shared calls were told as long as 'b's two.
    expect(byTag('a').find(({ calls }) => calls === 2)?.runMs).toBeCloseTo(byTag('b')[0].runMs, 9);
  });

  it('encode a call’s arguments when it is made, as a lone call’s', async () => {
    const argument = { v: 1 };
    const first = pool.run('echo', argument);
    const second = pool.run('echo', argument);
    argument.v = 2;
    expect(await Promise.all([first, second])).toEqual([{ v: 1 }, { v: 1 }]);
  });

  it('share a buffer first sent in a shared slot with the workers, by reference', async () => {
    const slots = slotsRun(pool);
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const tickets = await Promise.all(Array.from({ length: 40 }, () => pool.run('ticket', counter)));
    expect(tickets.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(counter[0]).toBe(40);
    expect(slotsRun(pool) - slots).toBeLessThan(40);
  });

  it('send alone, and right, a call whose arguments hold a Map', async () => {
    const calls = [pool.run('echo', 1), pool.run('echo', new Map([[1, { a: 2 }]])), pool.run('echo', 3)];
    const [, map, three] = await Promise.all(calls);
    expect(map).toEqual(new Map([[1, { a: 2 }]]));
    expect(three).toBe(3);
  });
});

describe('shared slots and maxPayloadBytes', () => {
  it('keep the arguments of a chunk within the limit, the calls still right', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({
      module: tasksUrl,
      threads: 2,
      coalesce: 'always',
      statistics: true,
      maxPayloadBytes: 1024,
    });
    for (let i = 0; i < 10; i++) await pool.run('echo', `warm-${i}`);
    const slots = slotsRun(pool);
    const text = (i: number) => `call-${i}-${'x'.repeat(i % 40)}`;
    const calls = Array.from({ length: 60 }, (_, i) => pool.run('echo', text(i)));
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 60 }, (_, i) => text(i)));
    expect(slotsRun(pool) - slots).toBeLessThan(60);
  });

  it('share no slot between calls whose results could not travel back together', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({
      module: tasksUrl,
      threads: 2,
      coalesce: 'always',
      statistics: true,
      maxPayloadBytes: 2048,
    });
    for (let i = 0; i < 10; i++) await pool.run('grow', 900);
    const slots = slotsRun(pool);
    const results = await Promise.all(Array.from({ length: 20 }, () => pool.run('grow', 900)));
    expect(results.every((result) => result === 'x'.repeat(900))).toBe(true);
    expect(slotsRun(pool) - slots).toBe(20);
  });
});

describe('the coalesce option', () => {
  it('auto: shares slots between the calls of a short task, never between those of a long one', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, statistics: true });
    await learn(pool);
    for (let i = 0; i < 10; i++) await pool.run('spin', 2);
    let slots = slotsRun(pool);
    expect(await Promise.all(Array.from({ length: 10 }, () => pool.run('spin', 2)))).toHaveLength(10);
    expect(slotsRun(pool) - slots).toBe(10);
    // A trivial task is measured far below the bound even on a loaded machine: 200 calls of a
    // burst take fewer slots than calls.
    slots = slotsRun(pool);
    const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.run('add', i, 1)));
    expect(sums).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(slotsRun(pool) - slots).toBeLessThan(200);
  });

  it('never: every call takes a slot of its own', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, statistics: true, coalesce: 'never' });
    await learn(pool);
    const slots = slotsRun(pool);
    expect(await Promise.all(Array.from({ length: 50 }, (_, i) => pool.run('add', i, 1)))).toHaveLength(50);
    expect(slotsRun(pool) - slots).toBe(50);
  });

  it('is checked', async () => {
    await expect(ThreadPool.create({ module: tasksUrl, coalesce: 'sometimes' as never })).rejects.toThrow(
      /coalesce: expected 'auto', 'always' or 'never'/,
    );
  });
});

describe('a shared slot', () => {
  it('fails every call with it when its worker dies, and the task’s calls share no slot again', async () => {
    const pool = await ThreadPool.create<typeof Crashes>({ module: crashesUrl, threads: 2, statistics: true, coalesce: 'always' });
    try {
      const settled = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => pool.run('exitAt', i, 20)));
      const crashed = settled.filter((result) => result.status === 'rejected');
      expect(crashed.length).toBeGreaterThanOrEqual(1);
      for (const result of crashed) expect(result.reason).toBeInstanceOf(WorkerCrashedError);
      settled.forEach((result, i) => {
        if (result.status === 'fulfilled') expect(result.value).toBe(i);
      });
      expect(settled[20].status).toBe('rejected');
      const slots = slotsRun(pool);
      expect(await Promise.all(Array.from({ length: 10 }, (_, i) => pool.run('exitAt', i, -1)))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(slotsRun(pool) - slots).toBe(10);
    } finally {
      await pool.close();
    }
  });

  it('is run before a close made in the same turn ends', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, coalesce: 'always' });
    const calls = [pool.run('add', 1, 1), pool.run('add', 2, 2), pool.run('add', 3, 3)];
    await pool.close();
    expect(await Promise.all(calls)).toEqual([2, 4, 6]);
  });

  it('rejects its calls with PoolClosedError when the pool is terminated before the turn ends', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 1, coalesce: 'always' });
    const calls = [pool.run('add', 1, 1), pool.run('add', 2, 2), pool.run('add', 3, 3)];
    const terminated = pool.terminate();
    const settled = await Promise.allSettled(calls);
    await terminated;
    for (const result of settled) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(PoolClosedError);
  });
});
