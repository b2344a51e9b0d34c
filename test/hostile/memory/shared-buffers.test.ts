// Shared buffers have a lifetime: a worker keeps a buffer while calls in flight name it, then among
// the 64 most recently used, or until `pool.release` says otherwise; a replacement worker starts
// with the buffers its pool knows (docs/internals/shared-buffers.md). Before, every buffer ever sent stayed on every
// worker and on the main thread for good, and a fresh buffer cost a control-plane round trip.
// Buffers created inside a worker travel back to the main thread in a result (and to other
// workers: passed-buffers.test.ts).
import { describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import type * as Tasks from '../../fixtures/shared-buffer-tasks.mjs';
import { retainedHeap } from '../../support/gc.js';

const module = new URL('../../fixtures/shared-buffer-tasks.mjs', import.meta.url);
const MiB = 1024 * 1024;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The most buffers a worker keeps alive, asked until every worker keeps at most `bound`
 * (collections and release messages take a few turns) or 50 tries have passed.
 */
async function settledLiveBuffers(pool: ThreadPool<typeof Tasks>, bound: number): Promise<number> {
  let live = Infinity;
  for (let attempt = 0; attempt < 50 && live > bound; attempt++) {
    retainedHeap();
    await pause(20);
    live = Math.max(...(await pool.broadcast('liveBuffers')));
  }
  return live;
}

describe('shared buffers are released', () => {
  it('3,000 calls, each with a fresh 64 KiB buffer: the workers and the main thread keep a bounded part', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const calls = 3000;
      const kept = calls * 64 * 1024; // 187.5 MiB, what keeping them all takes
      for (let i = 0; i < calls; i += 100) {
        const round: Promise<number>[] = [];
        for (let j = 0; j < 100; j++) {
          const view = new Uint8Array(new SharedArrayBuffer(64 * 1024));
          view[0] = j;
          round.push(pool.run('first', view));
        }
        expect(await Promise.all(round)).toEqual(Array.from({ length: 100 }, (_, j) => j));
      }
      expect(await settledLiveBuffers(pool, 100)).toBeLessThanOrEqual(100);
      retainedHeap();
      expect(process.memoryUsage().arrayBuffers).toBeLessThan(kept / 8);
    } finally {
      await pool.close();
    }
  });

  it('a call cancelled while it runs holds its buffers until its task returns, not until the pool closes', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const flag = new Int32Array(new SharedArrayBuffer(8));
      const buffer = new SharedArrayBuffer(MiB);
      const controller = new AbortController();
      const call = pool.with({ signal: controller.signal }).run('firstWhenFlagged', flag, new Uint8Array(buffer));
      while (Atomics.load(flag, 1) === 0) await pause(5);
      controller.abort();
      await expect(call).rejects.toThrow();
      // Dropped unseen, but the task still reads the buffer.
      expect(() => pool.release(buffer)).toThrow(TypeError);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      let released = false;
      for (let attempt = 0; attempt < 200 && !released; attempt++) {
        await pause(10);
        try {
          pool.release(buffer);
          released = true;
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
      }
      expect(released).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a fresh buffer is announced without a control-plane round trip', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const before = pool.controlMessages;
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const view = new Uint8Array(new SharedArrayBuffer(1024));
          view[0] = i;
          return pool.run('first', view);
        }),
      );
      expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(pool.controlMessages).toEqual(before);
    } finally {
      await pool.close();
    }
  });

  it('a replacement worker knows the buffers its pool knows, and hears of later ones', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const known = new Uint8Array(new SharedArrayBuffer(64));
      known[0] = 11;
      expect(await pool.broadcast('first', known)).toEqual([11, 11]);
      await expect(pool.run('exit', 1)).rejects.toThrow(/crashed/);
      // Every worker, the replacement included, reads the buffer it never received itself.
      expect(await pool.broadcast('first', known)).toEqual([11, 11]);
      const later = new Uint8Array(new SharedArrayBuffer(64));
      later[0] = 12;
      expect(await pool.broadcast('first', later)).toEqual([12, 12]);
    } finally {
      await pool.close();
    }
  });

  it('pool.release forgets a buffer on every worker now, and is refused while a call uses it', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const buffer = new SharedArrayBuffer(32 * MiB);
      const view = new Uint8Array(buffer);
      view[0] = 7;
      const inFlight = pool.run('first', view);
      expect(() => pool.release(buffer)).toThrow(TypeError);
      expect(await inFlight).toBe(7);
      expect(Math.max(...(await pool.broadcast('liveBuffers')))).toBe(1);
      pool.release(buffer);
      expect(await settledLiveBuffers(pool, 0)).toBe(0);
      // Still the caller's, and it can be sent again.
      view[0] = 9;
      expect(await pool.run('first', view)).toBe(9);
    } finally {
      await pool.close();
    }
  });
});

describe('shared buffers created inside a worker', () => {
  it('travel back to the main thread in a result, and from there to any task', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const views = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('created', i + 1)));
      for (const [i, view] of views.entries()) {
        expect(view).toBeInstanceOf(Float64Array);
        expect(view.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(Array.from(view)).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
      }
      const last = views[19];
      last[0] = 1000;
      // Passed on to every worker: they read the memory the main thread wrote.
      expect(await pool.broadcast('sum', last)).toEqual([1000 + 190, 1000 + 190]);
    } finally {
      await pool.close();
    }
  });

  it('two views of one buffer in a result share its memory; batches carry them too', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const { whole, tail, other } = await pool.run('createdTwice');
      tail[0] = 7;
      expect(whole[2]).toBe(7);
      expect(other.buffer).not.toBe(whole.buffer);
      const batch = await pool.runBatch('created', [[1], [2], [3]]);
      expect(batch.map((view) => Array.from(view))).toEqual([[0], [0, 1], [0, 1, 2]]);
    } finally {
      await pool.close();
    }
  });

  for (const how of ['pool.release', '100 newer buffers'] as const) {
    it(`a buffer kept in a worker's module state travels on after its main thread let go of it (${how})`, async () => {
      const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
      try {
        const buffer = new SharedArrayBuffer(16);
        const view = new Int32Array(buffer);
        view[0] = 3;
        expect(await pool.broadcast('keep', view)).toEqual([3, 3]);
        if (how === 'pool.release') {
          pool.release(buffer);
        } else {
          for (let i = 0; i < 100; i++) expect(await pool.run('first', new Uint8Array(new SharedArrayBuffer(8)).fill(i))).toBe(i);
        }
        // Each worker passes it under its own origin now: to its forks, stolen or not,
        expect(await pool.broadcast('forkKept')).toEqual([6, 6]);
        // and to the main thread, as the same memory.
        const kept = await pool.run('kept');
        kept[1] = 9;
        expect(view[1]).toBe(9);
        expect(await pool.broadcast('forkKept')).toEqual([24, 24]);
      } finally {
        await pool.close();
      }
    });
  }
});
