// The pool's main contract: every call runs once, on a worker, and its result comes back intact and
// in the right place — for sync and async tasks, small and large payloads, single calls and batches.
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TaskError, ThreadPool } from 'viscose';
import type * as Tasks from '../fixtures/tasks.mjs';

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);

/** Byte-wise equality of two byte arrays; vitest's deep equality takes seconds on megabytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('ThreadPool.run', () => {
  let pool: ThreadPool<typeof Tasks>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2 });
  });
  afterAll(() => pool.close());

  it('lists the function exports of the task module as tasks', () => {
    expect(pool.tasks).toContain('add');
    expect(pool.tasks).toContain('delayedEcho');
    expect([...pool.tasks]).toEqual([...pool.tasks].sort());
  });

  it('runs sync and async tasks', async () => {
    expect(await pool.run('add', 2, 3)).toBe(5);
    expect(await pool.run('asyncEcho', 'later')).toBe('later');
    expect(await pool.run('delayedEcho', { a: 1 }, 2)).toEqual({ a: 1 });
  });

  it('passes any number of arguments', async () => {
    expect(await pool.run('echo')).toEqual([]);
    expect(await pool.run('echo', 1, 'two', [3], { four: 4 }, null, undefined, true, 8, 9, 10)).toEqual([
      1,
      'two',
      [3],
      { four: 4 },
      null,
      undefined,
      true,
      8,
      9,
      10,
    ]);
  });

  it('round-trips the types msgpack carries, as themselves', async () => {
    const values: unknown[] = [
      0,
      -1.5,
      2 ** 53 - 1,
      NaN,
      Infinity,
      'text',
      'é✓🙂'.repeat(40),
      true,
      false,
      null,
      undefined,
      { nested: { deep: [1, { x: 'y' }] } },
      [1, [2, [3]]],
      new Uint8Array([1, 2, 3]),
      new Int32Array([-1, 7]),
      new Float64Array([1.5, -0.25]),
      new BigInt64Array([-5n]),
      new Date(1_700_000_000_000),
      new Map<unknown, unknown>([
        [1, 'one'],
        ['k', new Map([['inner', true]])],
      ]),
      new Set([1, 'a']),
      /ab+c/gi,
      12345678901234567890n,
    ];
    const results = await Promise.all(values.map((value) => pool.run('echo', value)));
    for (const [i, result] of results.entries()) expect(result).toEqual(values[i]);
    expect(await pool.run('typeOf', new Map())).toBe('Map');
    expect(await pool.run('typeOf', new Float64Array(2))).toBe('Float64Array');
    expect(await pool.run('typeOf', new Date())).toBe('Date');
  });

  it('carries payloads far larger than a slot, both ways', async () => {
    const big = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const echoed = await pool.run('echo', big);
    expect(echoed).toBeInstanceOf(Uint8Array);
    expect(sameBytes(echoed as Uint8Array, big)).toBe(true);
    const made = await pool.run('bytes', 5 * 1024 * 1024);
    expect(made.length).toBe(5 * 1024 * 1024);
    expect(made[1234567]).toBe(1234567 & 255);
    expect(
      await pool.run(
        'sum',
        Array.from({ length: 50_000 }, (_, i) => i),
      ),
    ).toBe((50_000 * 49_999) / 2);
  });

  // The bound: 64 MiB arguments and results work under the default maxPayloadBytes (128 MiB).
  it('carries 64 MiB payloads both ways, several times over (arena blocks are reused)', async () => {
    const size = 64 * 1024 * 1024;
    const big = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) big[i] = (i >>> 12) & 255;
    for (let round = 0; round < 3; round++) {
      const echoed = (await pool.run('echo', big)) as Uint8Array;
      expect(echoed.length).toBe(size);
      expect(sameBytes(echoed, big)).toBe(true);
    }
    const made = (await pool.run('bytes', size)) as Uint8Array;
    expect(made.length).toBe(size);
    expect(made[size - 1]).toBe((size - 1) & 255);
  });

  it('runs tasks on every worker, which know who they are', async () => {
    const seen = new Set<number>();
    for (let attempt = 0; attempt < 50 && seen.size < 2; attempt++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => pool.run('whoAmI')));
      await Promise.all(Array.from({ length: 4 }, () => pool.run('spin', 2)));
      for (const result of results) {
        seen.add(result.index!);
        expect(result.name).toBe(`viscose-${result.index}`);
        expect(result.threads).toBe(2);
      }
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('runs 100,000 mixed calls exactly once each, with correct results', async () => {
    const total = 100_000;
    const calls: Promise<unknown>[] = [];
    const expected: unknown[] = [];
    for (let i = 0; i < total; i++) {
      if (i % 1000 === 999) {
        const payload = new Uint8Array(64 * 1024).fill(i & 255);
        calls.push(pool.run('echo', payload));
        expected.push(payload);
      } else if (i % 10 === 7) {
        const value = {
          i,
          at: new Date(1_700_000_000_000 + i),
          tags: new Map<string, unknown>([
            ['n', i],
            ['nested', new Map([[i, [null, undefined]]])],
          ]),
          samples: new Float64Array([i, i / 2]),
          nothing: null,
          missing: undefined,
        };
        calls.push(i % 20 === 7 ? pool.run('asyncEcho', value) : pool.run('echo', value));
        expected.push(value);
      } else if (i % 10 === 3) {
        calls.push(pool.run('asyncEcho', { i, tag: `async-${i}` }));
        expected.push({ i, tag: `async-${i}` });
      } else if (i % 2 === 0) {
        calls.push(pool.run('add', i, 1));
        expected.push(i + 1);
      } else {
        calls.push(pool.run('trivial', { id: i, msg: `message-${i}` }));
        expected.push({ id: i, len: `message-${i}`.length });
      }
    }
    const results = await Promise.all(calls);
    for (let i = 0; i < total; i++) {
      const result = results[i];
      const same =
        result instanceof Uint8Array
          ? sameBytes(result, expected[i] as Uint8Array)
          : result === expected[i] || isDeepStrictEqual(result, expected[i]);
      if (!same) expect.fail(`call ${i}: expected ${JSON.stringify(expected[i])}, got ${JSON.stringify(result)}`);
    }
    const snapshots = await pool.snapshot();
    expect(snapshots.every((snapshot) => snapshot.asyncInFlight === 0)).toBe(true);
    expect(pool.pending).toBe(0);
  });
});

describe('ThreadPool.runBatch', () => {
  let pool: ThreadPool<typeof Tasks>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, maxPendingTasks: 8 });
  });
  afterAll(() => pool.close());

  it('returns the results in the order of the argument lists', async () => {
    const argsList = Array.from({ length: 20_001 }, (_, i): [number, number] => [i, i * 2]);
    const results = await pool.runBatch('add', argsList);
    expect(results).toEqual(argsList.map(([a, b]) => a + b));
  });

  it('cuts a batch into chunks of chunkSize calls, and tells an observer what each ran', async () => {
    const ran: { calls: number; runMs: number }[] = [];
    const observer = { ran: (runMs: number, calls: number) => ran.push({ calls, runMs }) };
    const argsList = Array.from({ length: 10 }, (_, i): [number, number] => [i, 1]);
    expect(await pool.with({ chunkSize: 4, observer }).runBatch('add', argsList)).toEqual(argsList.map(([a]) => a + 1));
    expect(ran.map(({ calls }) => calls).sort()).toEqual([2, 4, 4]);
    for (const { runMs } of ran) expect(runMs).toBeGreaterThanOrEqual(0);
    ran.length = 0;
    await expect(pool.with({ observer }).run('fail', 'no')).rejects.toThrow('no');
    expect(ran.map(({ calls }) => calls)).toEqual([1]);
    for (const chunkSize of [0, 1.5, '4']) {
      expect(() => pool.with({ chunkSize: chunkSize as number })).toThrow(/chunkSize: expected an integer of at least 1/);
    }
  });

  it('reports an observer that throws to onError, and the call still resolves', async () => {
    const errors: Error[] = [];
    await using own = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 1, onError: (error) => errors.push(error) });
    const observer = {
      ran: () => {
        throw new Error('observer broke');
      },
    };
    expect(await own.with({ observer }).run('add', 1, 2)).toBe(3);
    await vi.waitFor(() => expect(errors.map((error) => error.message)).toEqual(['observer broke']));
  });

  it('accepts any iterable and an empty batch', async () => {
    function* lists(): Generator<[number, number]> {
      for (let i = 0; i < 5; i++) yield [i, 10];
    }
    expect(await pool.runBatch('add', lists())).toEqual([10, 11, 12, 13, 14]);
    expect(await pool.runBatch('add', [])).toEqual([]);
  });

  it('runs async tasks in a batch', async () => {
    const results = await pool.runBatch(
      'asyncEcho',
      Array.from({ length: 300 }, (_, i): [unknown] => [i]),
    );
    expect(results).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('streams a batch far larger than the slot count through the slots', async () => {
    const results = await pool.runBatch(
      'trivial',
      Array.from({ length: 50_000 }, (_, i): [{ id: number; msg: string }] => [{ id: i, msg: 'x'.repeat(i % 7) }]),
    );
    expect(results[49_999]).toEqual({ id: 49_999, len: 49_999 % 7 });
    expect(results.length).toBe(50_000);
    expect(pool.pending).toBe(0);
  });
});

describe('runBatchSettled', () => {
  it('runs every call and settles each on its own, in order', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: new URL('../fixtures/tasks.mjs', import.meta.url), threads: 2 });
    try {
      const argsList = Array.from({ length: 2000 }, (_, i) => [i, i % 7 === 0 ? i : -1] as [number, number]);
      const results = await pool.runBatchSettled('failAt', argsList);
      expect(results).toHaveLength(2000);
      results.forEach((result, i) => {
        if (i % 7 === 0) {
          expect(result.status).toBe('rejected');
          const reason = (result as PromiseRejectedResult).reason;
          expect(reason).toBeInstanceOf(TaskError);
          expect(reason.index).toBe(i);
          expect(reason.cause.message).toBe(`call ${i} is bad`);
        } else {
          expect(result).toEqual({ status: 'fulfilled', value: i * i });
        }
      });
      // Asynchronous calls too, and with a priority.
      const echoed = await pool.with({ priority: 'high' }).runBatchSettled('asyncEcho', [[1], [2]]);
      expect(echoed).toEqual([
        { status: 'fulfilled', value: 1 },
        { status: 'fulfilled', value: 2 },
      ]);
      expect(await pool.runBatchSettled('add', [])).toEqual([]);
    } finally {
      await pool.close();
    }
  });
});
