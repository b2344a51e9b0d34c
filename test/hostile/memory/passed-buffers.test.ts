// Issue 18, §4: a SharedArrayBuffer created inside a worker travels to other workers too — to
// the work it forks (join, scope, broadcast, parallel iterators), back from it, and on from there —
// with the same meaning whether the forked work is stolen or not, and without being kept after.
import { describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import type * as Tasks from '../../fixtures/passed-buffer-tasks.mjs';
import { retainedHeap } from '../../support/gc.js';

const module = new URL('../../fixtures/passed-buffer-tasks.mjs', import.meta.url);

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until `done` says its result shows what the test needs (a steal), at most 20 times. */
async function untilSeen<T>(attempt: () => Promise<T>, done: (result: T) => boolean): Promise<T> {
  let result = await attempt();
  for (let tries = 1; tries < 20 && !done(result); tries++) result = await attempt();
  return result;
}

const workersIn = (who: Int32Array): number[] => [...new Set(who)].sort();

describe('a buffer created in a worker, passed to the work it forks', () => {
  for (const threads of [1, 2, 4]) {
    it(`join, recursively, on ${threads} thread(s): every half writes the creator's memory`, async () => {
      const pool = await ThreadPool.create<typeof Tasks>({ module, threads });
      try {
        const length = 64;
        const result = await untilSeen(
          () => pool.run('createAndFill', length, 4, 1),
          ({ who }) => workersIn(who).length === Math.min(threads, 2),
        );
        expect(result.written).toBe(length);
        expect(Array.from(result.view)).toEqual(Array.from({ length }, (_, i) => i * 2));
        // Stolen halves wrote too (every item is marked by the worker that wrote it).
        expect(workersIn(result.who).length).toBeGreaterThanOrEqual(Math.min(threads, 2));
        expect(Array.from(result.who as Int32Array).every((by) => by >= 1 && by <= threads)).toBe(true);
      } finally {
        await pool.close();
      }
    });
  }

  it('buffers created by both halves of a join come back to the forker, and on to the main thread', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const [a, b] = await untilSeen(
        () => pool.run('madeInHalves', 8, 2),
        ([left, right]) => left.by !== right.by,
      );
      expect(a.by).not.toBe(b.by);
      expect(a.view.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(b.view.buffer).toBeInstanceOf(SharedArrayBuffer);
      // The forker's writes, in the memory each half created.
      expect(Array.from(a.view)).toEqual([10, 1, 1, 1, 1, 1, 1, 1]);
      expect(Array.from(b.view)).toEqual([20, 2, 2, 2, 2, 2, 2, 2]);
      b.view[1] = 5;
      expect(await pool.run('sumWhere', b.view)).toMatchObject({ total: 20 + 5 + 6 * 2 });
    } finally {
      await pool.close();
    }
  });

  it("scope: spawns, and spawns of spawns wherever they run, write the creator's memory", async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const length = 16;
      const { view, who } = await untilSeen(
        () => pool.run('scopeFill', length, 1),
        (result) => workersIn(result.who).length === 2,
      );
      expect(Array.from(view)).toEqual(Array.from({ length }, (_, i) => i + 1));
      expect(workersIn(who)).toEqual([1, 2]);
    } finally {
      await pool.close();
    }
  });

  it('broadcast: every worker writes into a buffer the broadcaster created', async () => {
    for (const threads of [2, 3]) {
      const pool = await ThreadPool.create<typeof Tasks>({ module, threads });
      try {
        const { view, lengths } = await pool.run('broadcastCreated', threads);
        expect(lengths).toEqual(Array.from({ length: threads }, () => threads));
        expect(Array.from(view)).toEqual(Array.from({ length: threads }, (_, i) => i + 1));
      } finally {
        await pool.close();
      }
    }
  });

  it('parallel iterators over, and with steps writing into, buffers created in the task', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const length = 256;
      const { total, who } = await untilSeen(
        () => pool.run('iterOverCreated', length, 0.05),
        (result) => workersIn(result.who).length === 2,
      );
      expect(total).toBe(length * (length - 1));
      expect(workersIn(who)).toEqual([1, 2]);
    } finally {
      await pool.close();
    }
  });
});

describe('passed buffers and worker replacement', () => {
  it('a replacement steals a fork naming a buffer lent before it started', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const flags = new Int32Array(new SharedArrayBuffer(32));
      // One worker is occupied, so that the other's fork is not stolen before the replacement.
      const occupied = pool.run('occupyThenExit', flags);
      occupied.catch(() => {});
      while (Atomics.load(flags, 0) === 0) await pause(5);
      const busy = Atomics.load(flags, 1);
      const lending = pool.run('lendBeforeReplacement', flags);
      while (Atomics.load(flags, 4) === 0) await pause(5);
      Atomics.store(flags, 2, 1);
      await expect(occupied).rejects.toThrow(/crashed/);
      // The lender is busy in the first half: only the replacement can take the second.
      while (pool.statistics().workers[1 - busy].dequeDepth !== 0) await pause(5);
      Atomics.store(flags, 3, 1);
      Atomics.notify(flags, 3);
      const { self, stolen } = await lending;
      expect(stolen.total).toBe(10);
      // Stolen by the replacement, which got the buffer lent before it existed.
      expect(self).not.toBe(busy);
      expect(stolen.by).toBe(busy);
      // And the pool goes on passing buffers between the replacement and the others.
      const again = await untilSeen(
        () => pool.run('createAndFill', 32, 4, 1),
        ({ who }) => workersIn(who).length === 2,
      );
      expect(Array.from(again.view)).toEqual(Array.from({ length: 32 }, (_, i) => i * 2));
      expect(workersIn(again.who)).toEqual([1, 2]);
    } finally {
      await pool.close();
    }
  });
});

describe('passed buffers are let go', () => {
  it('400 fresh 1 MiB buffers lent to stolen halves: no worker keeps them', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const stolen = await pool.run('lendMany', 400, 1024 * 1024, 0.2);
      // Most halves were stolen, so the other worker decoded most buffers.
      expect(stolen).toBeGreaterThan(0);
      let live = Infinity;
      for (let attempt = 0; attempt < 50 && live > 8; attempt++) {
        retainedHeap();
        await pause(20);
        live = Math.max(...(await pool.broadcast('liveBuffers')));
      }
      expect(live).toBeLessThanOrEqual(8);
    } finally {
      await pool.close();
    }
  });
});
