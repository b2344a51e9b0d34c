// Batches whose argument lists arrive encoded (EncodedCalls, as a cluster node receives them): the
// pool cuts them into chunks without decoding them, and every call must come out as if its
// arguments had been given as values: in order, each with its own outcome, through chunking,
// crashes, and chunks too large for maxPayloadBytes.
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, TaskError, ThreadPool, WorkerCrashedError } from 'viscose';
import { EncodedCalls } from '../../src/codec/encoded-calls.js';
import { pack } from '../../src/codec/msgpack.js';
import { PayloadKind } from '../../src/shm/slot.js';
import type * as Tasks from '../fixtures/encoded-calls.mjs';
import { waitFor } from '../support/wait-for.js';

const tasksUrl = new URL('../fixtures/encoded-calls.mjs', import.meta.url);

function encoded<A extends unknown[]>(calls: A[]): EncodedCalls<A> {
  return EncodedCalls.fromParts(
    calls.map((args) => {
      const { bytes, start, end } = pack(args, PayloadKind.PLAIN);
      return bytes.slice(start, end);
    }),
  );
}

async function withPool(test: (pool: ThreadPool<typeof Tasks>) => Promise<void>, maxPayloadBytes?: number): Promise<void> {
  const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, ...(maxPayloadBytes ? { maxPayloadBytes } : {}) });
  try {
    await test(pool);
  } finally {
    await pool.close();
  }
}

describe('batches of encoded argument lists', () => {
  it('runs every call with the arguments it was encoded with, in order, across chunks', async () => {
    await withPool(async (pool) => {
      const calls = Array.from({ length: 1_000 }, (_, i) => [i, { name: `call-${i}`, tags: ['a', i % 3 === 0] }, i % 2 ? null : 'é✓']);
      expect(await pool.runBatch('echo', encoded(calls))).toEqual(calls);
      expect(await pool.with({ chunkSize: 7 }).runBatch('echo', encoded(calls))).toEqual(calls);
    });
  });

  it('settles each call on its own in a settled batch', async () => {
    await withPool(async (pool) => {
      const calls = Array.from({ length: 100 }, (_, i): [number, number] => [i, 42]);
      const settled = await pool.with({ chunkSize: 10 }).runBatchSettled('doubleUnless', encoded(calls));
      settled.forEach((result, i) => {
        if (i !== 42) {
          expect(result).toEqual({ status: 'fulfilled', value: 2 * i });
          return;
        }
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as TaskError;
        expect(reason).toBeInstanceOf(TaskError);
        expect(reason.index).toBe(42);
        expect((reason.cause as Error).message).toBe('call 42 is the bad one');
      });
    });
  });

  it('runs a crashed chunk again one call per slot from the same bytes, so a poison call fails alone', async () => {
    await withPool(async (pool) => {
      const calls = Array.from({ length: 20 }, (_, i): [number, number] => [i, 13]);
      const settled = await pool.with({ retries: 2, chunkSize: 5 }).runBatchSettled('exitOn', encoded(calls));
      settled.forEach((result, i) => {
        if (i === 13) expect(result).toMatchObject({ status: 'rejected', reason: expect.any(WorkerCrashedError) });
        else expect(result).toEqual({ status: 'fulfilled', value: 2 * i });
      });
      // The pool replaced the crashed workers (closing it while a replacement starts is another test's matter).
      await waitFor(async () => (await pool.ping()).length === 2);
    });
  });

  it('halves a chunk past maxPayloadBytes, and refuses a batch with a call too large alone', async () => {
    await withPool(async (pool) => {
      const calls = Array.from({ length: 64 }, (_, i) => [i, 'x'.repeat(200)]);
      // 64 calls of about 205 bytes cannot go as one chunk of 4 KiB: halved until each fits.
      expect(await pool.with({ chunkSize: 64 }).runBatch('echo', encoded(calls))).toEqual(calls);
      const tooLarge = [...calls.slice(0, 3), [3, 'x'.repeat(5_000)]];
      await expect(pool.runBatch('echo', encoded(tooLarge))).rejects.toThrow(PayloadTooLargeError);
      await expect(pool.runBatch('echo', encoded(tooLarge))).rejects.toThrow(
        /argsList\[3\] encodes to \d+ bytes, more than maxPayloadBytes \(4096\)/,
      );
    }, 4096);
  });

  it('decodes its argument lists when iterated, and selects calls by index', () => {
    const calls = [[1, 'two', { three: [3] }], [], ['four']];
    expect([...encoded(calls)]).toEqual(calls);
    expect([...encoded(calls).select([2, 0])]).toEqual([calls[2], calls[0]]);
  });

  it('runs a selection of encoded calls', async () => {
    await withPool(async (pool) => {
      const calls = Array.from({ length: 50 }, (_, i): [number, string] => [i, `call-${i}`]);
      const picked = [49, 3, 17, 0];
      expect(await pool.with({ chunkSize: 3 }).runBatch('echo', encoded(calls).select(picked))).toEqual(picked.map((i) => calls[i]));
    });
  });
});
