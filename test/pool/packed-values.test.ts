// Settled batches whose workers pack the values (SlotFlag.PACK_VALUES), as a cluster node runs its
// chunks: every call must come out exactly once, either in a packed list (JSON data, null for a
// failed call or a value that is undefined) or as its own entry (a failure, or a chunk whose values
// JSON's types do not cover), through chunking, failures that cannot cross threads, and crashes.
import { describe, expect, it } from 'vitest';
import { type CallOptions, TaskError, ThreadPool, WorkerCrashedError } from 'viscose';
import { PACKED_BATCH, type PackedBatch } from '../../src/pool/calls.js';
import { unpackValueList } from '../../src/bullmq/packing.js';
import { waitFor } from '../support/wait-for.js';

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);
const crashingUrl = new URL('../fixtures/encoded-calls.mjs', import.meta.url);

/**
 * The pool's packed batch, as a cluster node calls it. `viscose` here is the built package, whose
 * declarations name the method by a symbol of their own; the symbol is the same registered one.
 */
function packedBatch(pool: ThreadPool, options: CallOptions, task: string, calls: unknown[][]): Promise<PackedBatch> {
  const node = pool as unknown as { [PACKED_BATCH](options: CallOptions, task: string, calls: unknown[][]): Promise<PackedBatch> };
  return node[PACKED_BATCH](options, task, calls);
}

async function withPool(module: URL, test: (pool: ThreadPool) => Promise<void>): Promise<void> {
  const pool = await ThreadPool.create({ module, threads: 2 });
  try {
    await test(pool);
  } finally {
    await pool.close();
  }
}

/** Every call's value, from the packed lists or its entry; checks that each call has exactly one. */
function valuesOf({ packed, entries }: PackedBatch, count: number): unknown[] {
  const values = new Array<unknown>(count);
  const seen = new Uint8Array(count);
  for (const { start, count: calls, bytes } of packed) {
    const list = unpackValueList(bytes);
    expect(list).toHaveLength(calls);
    list.forEach((value, i) => {
      seen[start + i]++;
      if (entries[start + i] === undefined) values[start + i] = value;
      else expect(value).toBeNull(); // a failed call's place in its list
    });
  }
  entries.forEach((entry, index) => {
    if (entry === undefined) return;
    if (entry.status === 'fulfilled') {
      seen[index]++;
      values[index] = entry.value;
    } else if (seen[index] === 0) {
      seen[index]++;
    }
  });
  expect([...seen]).toEqual(Array(count).fill(1));
  return values;
}

describe('settled batches with packed values', () => {
  it('packs values of JSON data in one list per chunk, with null for undefined', async () => {
    await withPool(tasksUrl, async (pool) => {
      const calls = Array.from({ length: 100 }, (_, i) => [i % 10 === 0 ? undefined : { i, name: `call-${i}`, tags: ['a', i % 3 === 0] }]);
      const batch = await packedBatch(pool, { chunkSize: 7 }, 'echo', calls);
      expect(batch.packed).toHaveLength(15);
      expect(batch.entries.every((entry) => entry === undefined)).toBe(true);
      expect(valuesOf(batch, 100)).toEqual(calls.map(([value]) => value ?? null));
      expect(await packedBatch(pool, {}, 'echo', [])).toEqual({ packed: [], entries: [] });
    });
  });

  it('gives each failed call its own rejected entry and null in its list', async () => {
    await withPool(tasksUrl, async (pool) => {
      const calls = Array.from({ length: 50 }, (_, i): [number, number] => [i, 42]);
      const batch = await packedBatch(pool, { chunkSize: 10 }, 'failAt', calls);
      const values = valuesOf(batch, 50);
      values.forEach((value, i) => {
        if (i !== 42) expect(value).toBe(i * i);
      });
      const failed = batch.entries.flatMap((entry, index) => (entry === undefined ? [] : [[index, entry]]));
      expect(failed).toEqual([[42, { status: 'rejected', reason: expect.any(TaskError) }]]);
      const reason = (batch.entries[42] as PromiseRejectedResult).reason as TaskError;
      expect(reason.index).toBe(42);
      expect(reason.cause).toMatchObject({ message: 'call 42 is bad', code: 'E_BAD_CALL' });
    });
  });

  it("leaves a chunk whose values JSON's types do not cover as entries, and packs the others", async () => {
    await withPool(tasksUrl, async (pool) => {
      const calls: unknown[][] = Array.from({ length: 20 }, (_, i) => [i === 7 ? new Date(i) : i]);
      const batch = await packedBatch(pool, { chunkSize: 5 }, 'echo', calls);
      expect(batch.packed.map(({ start }) => start).sort((a, b) => a - b)).toEqual([0, 10, 15]);
      expect(batch.entries.slice(5, 10)).toEqual(calls.slice(5, 10).map(([value]) => ({ status: 'fulfilled', value })));
      expect(batch.entries[7]).toEqual({ status: 'fulfilled', value: new Date(7) });
      expect(valuesOf(batch, 20)).toEqual(calls.map(([value]) => value));
    });
  });

  it('reduces a failure that cannot cross threads, and keeps the packed values beside it', async () => {
    await withPool(tasksUrl, async (pool) => {
      // Call 3 throws an error holding a function, call 6 returns one: only they fail.
      const calls = Array.from({ length: 10 }, (_, i): [number, number, number] => [i, 6, 3]);
      const batch = await packedBatch(pool, { chunkSize: 5 }, 'badOutcomeAt', calls);
      // The first chunk's values are JSON data: packed, with its failure reduced beside them.
      expect(batch.packed.map(({ start, count }) => [start, count])).toEqual([[0, 5]]);
      const values = valuesOf(batch, 10);
      for (const i of [0, 1, 2, 4, 5, 7, 8, 9]) expect(values[i]).toBe(i);
      expect(batch.entries[3]).toMatchObject({ status: 'rejected', reason: { index: 3, cause: { message: 'bad error 3' } } });
      expect(batch.entries[6]).toMatchObject({ status: 'rejected', reason: { index: 6 } });
    });
  });

  it('runs a crashed chunk again one call per slot, each packing its own value', async () => {
    await withPool(crashingUrl, async (pool) => {
      const calls = Array.from({ length: 20 }, (_, i): [number, number] => [i, 13]);
      const batch = await packedBatch(pool, { retries: 2, chunkSize: 5 }, 'exitOn', calls);
      const values = valuesOf(batch, 20);
      values.forEach((value, i) => {
        if (i !== 13) expect(value).toBe(2 * i);
      });
      expect(batch.entries[13]).toMatchObject({ status: 'rejected', reason: expect.any(WorkerCrashedError) });
      // The crashed chunk's other calls came back one list each.
      expect(batch.packed.filter(({ start }) => start >= 10 && start < 15).map(({ count }) => count)).toEqual([1, 1, 1, 1]);
      await waitFor(async () => (await pool.ping()).length === 2);
    });
  });
});
