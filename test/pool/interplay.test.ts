// The features of an elastic pool together: calls that move their buffer to whichever worker takes
// them, fork join halves that other workers may steal, report progress from both halves to the
// call's listener and move the buffer back — while the pool grows under bursts and its idle workers
// retire between them. Every call must come back right, with exactly its own events.
import { describe, expect, it } from 'vitest';
import { ThreadPool, transfer } from 'viscose';
import type * as Tasks from '../fixtures/interplay.mjs';
import { Random } from '../support/random.js';

const module = new URL('../fixtures/interplay.mjs', import.meta.url);

describe('an elastic pool moving buffers and reporting progress', () => {
  it('returns every call right, with exactly its own events, while it grows and shrinks', async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Tasks>({
      module,
      minThreads: 1,
      maxThreads: 3,
      idleTimeout: 0,
      onError: (error) => errors.push(error),
    });
    const random = new Random(22);
    let next = 0;
    try {
      for (let burst = 0; burst < 30; burst++) {
        const calls = Array.from({ length: 1 + random.below(8) }, async () => {
          const id = next++;
          const bytes = new Uint8Array(1 + random.below(4096));
          for (let i = 0; i < bytes.length; i++) bytes[i] = random.below(256);
          const expected = bytes.reduce((sum, byte) => sum + byte, 0);
          const copy = bytes.slice();
          const heard: { id: number; from: number }[] = [];
          const result = pool
            .with({ onEvent: (_event, payload) => void heard.push(payload as { id: number; from: number }) })
            .run('sumBytes', id, transfer(bytes));
          expect(bytes.byteLength).toBe(0);
          const { id: answered, sum, bytes: back } = await result;
          expect([answered, sum]).toEqual([id, expected]);
          expect(back).toEqual(copy);
          expect(heard.map((event) => event.id)).toEqual([id, id]);
          expect(heard.map((event) => event.from).sort((a, b) => a - b)).toEqual([0, copy.length >> 1]);
        });
        await Promise.all(calls);
        // Now and then long enough for the idle workers to retire before the next burst.
        await new Promise((resolve) => setTimeout(resolve, random.below(3) === 0 ? 100 : random.below(5)));
      }
      expect(errors).toEqual([]);
    } finally {
      await pool.close();
    }
  });
});
