// Calls that move buffers, many at once on several workers, with aborts landing at random moments
// (before a worker takes the call, while it pulls, while it runs): each call either gives the
// right answer or fails with AbortError — never another worker's buffer, a copy, or TransferError —
// and nothing stays held. A worker that dies holding a moved buffer fails its call, as any crash.
import { describe, expect, it } from 'vitest';
import { AbortError, ThreadPool, transfer, WorkerCrashedError } from 'viscose';
import type * as Tasks from '../fixtures/transfer-tasks.mjs';
import { retainedHeap } from '../support/gc.js';
import { runtime } from '../support/runtime.js';
import { waitFor } from '../support/wait-for.js';

const module = new URL('../fixtures/transfer-tasks.mjs', import.meta.url);

/** mulberry32: the same aborts on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Memory held by ArrayBuffers after a full collection (Node counts it). */
function heldBytes(): number {
  retainedHeap();
  return process.memoryUsage().arrayBuffers ?? 0;
}

describe('transfers racing aborts', () => {
  for (const seed of [1, 2, 3]) {
    it(`each call answers right or aborts, and nothing stays held (seed ${seed})`, async () => {
      await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 3 });
      const next = random(seed);
      const before = heldBytes();
      const CALLS = 300;
      const SIZE = 256 * 1024;
      const outcomes = await Promise.all(
        Array.from({ length: CALLS }, async (_, i) => {
          const controller = new AbortController();
          const bytes = new Uint8Array(SIZE + i).fill(i % 256);
          const call = pool.with({ signal: controller.signal }).run('sumLater', Math.floor(next() * 3), transfer(bytes));
          const when = next();
          if (when < 0.3) controller.abort();
          else if (when < 0.6) setTimeout(() => controller.abort(), Math.floor(next() * 20));
          try {
            const seen = await call;
            return seen.byteLength === SIZE + i && seen.sum === (SIZE + i) * (i % 256) ? 'right' : 'wrong';
          } catch (error) {
            return error instanceof AbortError ? 'aborted' : String(error);
          }
        }),
      );
      expect(outcomes.filter((outcome) => outcome !== 'right' && outcome !== 'aborted')).toEqual([]);
      expect(outcomes).toContain('right');
      expect(outcomes).toContain('aborted');
      if (runtime === 'node') {
        // Moved buffers belong to the allocator that made them, here the main thread's: the
        // workers' garbage counts until they collect it.
        await waitFor(async () => {
          expect(await pool.broadcast('collect')).toEqual([true, true, true]);
          return heldBytes() - before < 16 * SIZE;
        }, 5000);
      }
    });
  }

  it('a worker that dies holding a moved buffer fails its call with WorkerCrashedError', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, onError: () => {} });
    await expect(pool.run('dieWith', transfer(new Uint8Array(16)))).rejects.toBeInstanceOf(WorkerCrashedError);
    // The replacement takes moved buffers as before.
    expect(await pool.run('length', transfer(new ArrayBuffer(5)))).toBe(5);
  });
});
