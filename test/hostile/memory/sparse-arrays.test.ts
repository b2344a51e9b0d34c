// Values whose encoding would be huge: refused before they are encoded, the event loop turning
// meanwhile, or (sparse arrays) encoded in proportion to what they hold, holes kept.
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ThreadPool } from 'viscose';
import type * as Tasks from '../../fixtures/tasks.mjs';
import { rejection } from '../../support/rejection.js';

const module = new URL('../../fixtures/tasks.mjs', import.meta.url);

/**
 * Runs `call` with a 10 ms interval ticking, and returns its outcome and the longest stretch (ms)
 * in which the event loop did not turn: between two ticks, or from the call or the last tick to
 * the settlement. Only "seconds or not" is asserted from it.
 */
async function blockingOf(call: () => Promise<unknown>): Promise<{ longestBlock: number; outcome: unknown }> {
  let last = performance.now();
  let longestBlock = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestBlock = Math.max(longestBlock, now - last);
    last = now;
  }, 10);
  last = performance.now();
  const outcome = await call().then(
    (value) => value,
    (error: unknown) => error,
  );
  longestBlock = Math.max(longestBlock, performance.now() - last);
  clearInterval(timer);
  return { longestBlock, outcome };
}

/** Blocking the event loop for seconds is the bug; anything under one is not. */
const SECONDS = 1000;

describe('sparse arrays', () => {
  it('an array of length 2^26 holding one element crosses at once, its holes kept', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const sparse: unknown[] = [];
    sparse.length = 2 ** 26;
    sparse[5] = 'five';
    sparse[2 ** 26 - 1] = 'last';
    const { longestBlock, outcome } = await blockingOf(() => pool.run('echo', sparse));
    expect(longestBlock).toBeLessThan(SECONDS);
    const back = outcome as unknown[];
    expect(back.length).toBe(2 ** 26);
    expect(Object.keys(back)).toEqual(['5', String(2 ** 26 - 1)]);
    expect(back[5]).toBe('five');
    expect(4 in back).toBe(false);
  });

  it('small arrays keep their holes, nested and in a batch, and undefined stays undefined', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    // eslint-disable-next-line no-sparse-arrays
    const holey = [1, , 3, undefined, , { inner: [, 'x'] }];
    const back = (await pool.run('echo', holey)) as unknown[];
    expect(back).toEqual(holey);
    expect(Object.keys(back)).toEqual(['0', '2', '3', '5']);
    expect(Object.keys((back[5] as { inner: unknown[] }).inner)).toEqual(['1']);
    const batch = (await pool.runBatch('echo', [[holey], [[, 2]]])) as unknown[][];
    expect(Object.keys(batch[0])).toEqual(['0', '2', '3', '5']);
    expect(Object.keys(batch[1])).toEqual(['1']);
  });
});

describe('payloads that cannot fit are refused before they are encoded', () => {
  const cases: [string, () => unknown, number?][] = [
    ['a string of 300 MB', () => 'x'.repeat(300e6)],
    ['an array of 2^26 zeros over a 1 MiB limit', () => new Array(2 ** 26).fill(0), 1 << 20],
    ['an array of 2^24 floats', () => new Array(2 ** 24).fill(1.5)],
    // The refusal comes once the size counted so far passes the limit: with a small one, early in
    // the Map (on Bun, walking all of it took over a second).
    [
      'a Map of 8 million integers over a 1 MiB limit',
      () => {
        const map = new Map<number, number>();
        for (let i = 0; i < 8e6; i++) map.set(i, i);
        return map;
      },
      1 << 20,
    ],
  ];
  for (const [name, make, maxPayloadBytes] of cases) {
    it(`${name}: PayloadTooLargeError without blocking the event loop for seconds`, async () => {
      await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPayloadBytes });
      const value = make();
      const { longestBlock, outcome } = await blockingOf(() => pool.run('echo', value));
      expect(outcome).toBeInstanceOf(PayloadTooLargeError);
      const counted = /^args encodes to at least (\d+) bytes, more than maxPayloadBytes/.exec((outcome as Error).message);
      expect(counted).not.toBeNull();
      // Refused once the count passed the limit, not after counting the whole value.
      if (maxPayloadBytes !== undefined) expect(Number(counted![1])).toBeLessThan(2 * maxPayloadBytes);
      expect(longestBlock).toBeLessThan(SECONDS);
    });
  }

  it('a batch call that alone cannot fit rejects the batch, naming the call', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPayloadBytes: 1 << 20 });
    const error = await rejection(pool.runBatch('echo', [[1], ['x'.repeat(2 << 20)]]));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toMatch(/^argsList\[1\] encodes to at least/);
  });
});
