// Shared buffers have a lifetime: a worker forgets a buffer once the main thread no longer holds it
// and no call in flight names it, or when `pool.release` says so; a replacement worker starts with
// the live ones only (ARCHITECTURE.md). Before, every buffer ever sent stayed on every worker and
// on the main thread for good.
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
