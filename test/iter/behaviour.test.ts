// Parallel iterators at their edges: empty sources, order, chunks, nesting, shared memory, and the
// errors a user gets for what cannot work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InlineStepError, PayloadTooLargeError, PoolClosedError, TaskError, ThreadPool, UnknownTaskError, range } from 'viscose';
import type * as Fixture from '../fixtures/iter.mjs';
import { rejection } from '../support/rejection.js';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

function sharedFloat64(values: number[]): Float64Array {
  const array = new Float64Array(new SharedArrayBuffer(8 * values.length));
  array.set(values);
  return array;
}

describe('parallel iterators', () => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads: 2 });
  });
  afterAll(() => pool.close());

  it('give the neutral results over empty sources', async () => {
    for (const source of [range(7, 7), range(7, 3), [], new Float64Array(0)]) {
      expect(await pool.parIter(source).sum()).toBe(0);
      expect(await pool.parIter(source).count()).toBe(0);
      expect(await pool.parIter(source).min()).toBeUndefined();
      expect(await pool.parIter(source).max()).toBeUndefined();
      expect(await pool.parIter(source).collect()).toEqual([]);
      expect(await pool.parIter(source).reduce('add', 0)).toBe(0);
    }
  });

  it('keep the order of a non-commutative reduce and of collect', async () => {
    const letters = Array.from({ length: 2000 }, (_, i) => String.fromCharCode(97 + (i % 26)));
    expect(await pool.parIter(letters).maxLen(7).reduce('concat', '')).toBe(letters.join(''));
    expect(await pool.parIter(range(0, 5000)).maxLen(3).collect()).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('find the first of equal extremes, and let NaN win as Math.min does', async () => {
    expect(await pool.parIter([3, 1, 2, 1]).enumerate().map('addTo', 0).count()).toBe(4);
    expect(await pool.parIter(new Float64Array([2, NaN, 1])).min()).toBeNaN();
    expect(await pool.parIter(new Float64Array([2, NaN, 1])).max()).toBeNaN();
    expect(await pool.parIter(['b', 'a', 'c']).min()).toBe('a');
    expect(await pool.parIter(range(-5, 5)).map('square').max()).toBe(25);
  });

  it('iterate over chunks: views of a typed array, slices of an array or a range', async () => {
    const shared = sharedFloat64([1, 2, 3, 4, 5, 6, 7]);
    const views = await pool.parIter(shared).chunks(3).collect();
    expect(views.map((view) => Array.from(view))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    // A chunk of shared memory comes back as a view of the same memory.
    expect((views[0] as Float64Array).buffer).toBe(shared.buffer);
    expect(await pool.parIter(['a', 'b', 'c', 'd', 'e']).chunks(2).collect()).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(await pool.parIter(range(10, 15)).chunks(2).map('sumOf').collect()).toEqual([21, 25, 14]);
    expect(await pool.parIter(range(0, 10)).chunks(4).enumerate().map('length').count()).toBe(3);
  });

  it('nest: a step may run a parallel iterator of its own', async () => {
    const expected = Array.from({ length: 40 }, (_, n) => Array.from({ length: n }, (_, i) => i * i).reduce((a, b) => a + b, 0));
    expect(await pool.parIter(range(0, 40)).map('sumOfSquares').collect()).toEqual(expected);
  });

  it('run many pipelines at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, k) =>
        pool
          .parIter(range(0, 1000 + k))
          .map('square')
          .sum(),
      ),
    );
    results.forEach((result, k) => {
      const n = 1000 + k;
      expect(result).toBe(((n - 1) * n * (2 * n - 1)) / 6);
    });
  });

  it('write through a shared typed array passed as an extra argument', async () => {
    const values = sharedFloat64(Array.from({ length: 10_000 }, (_, i) => i));
    await pool.parIter(range(0, values.length)).forEach('doubleAt', values);
    expect(values.every((value, i) => value === 2 * i)).toBe(true);
  });

  it('write results in place with collectInto', async () => {
    const n = 100_000;
    const squares = new Float64Array(new SharedArrayBuffer(8 * n));
    await pool.parIter(range(0, n)).maxLen(1000).map('square').collectInto(squares);
    expect(squares.every((value, i) => value === i * i)).toBe(true);
    const sums = new Int32Array(new SharedArrayBuffer(4 * 4));
    await pool.parIter(range(0, 10)).chunks(3).map('sumOf').collectInto(sums);
    expect(Array.from(sums)).toEqual([3, 12, 21, 9]);
    const inside = new Float64Array(new SharedArrayBuffer(8 * 1000));
    await pool.run('squaresInto', inside);
    expect(inside.every((value, i) => value === i * i)).toBe(true);
  });

  it('reject a collectInto that cannot write every item where it belongs', async () => {
    const shared = new Float64Array(new SharedArrayBuffer(8 * 10));
    expect((await rejection(pool.parIter(range(0, 10)).collectInto(new Float64Array(10)))).message).toMatch(/SharedArrayBuffer/);
    expect((await rejection(pool.parIter(range(0, 10)).filter('isEven').collectInto(shared))).message).toMatch(/cannot follow a filter/);
    expect(await rejection(pool.parIter(range(0, 11)).collectInto(shared))).toBeInstanceOf(RangeError);
  });

  it('run pipelines started inside tasks', async () => {
    expect(await pool.run('sumOfSquares', 1000)).toBe(332_833_500);
    expect(await pool.run('collectInside', [1, 2, 3, 4])).toEqual([4, 16]);
  });

  it('run a self-contained closure as a step inside a task, and refuse one that captures, naming what', async () => {
    expect(await pool.run('inlineStepInside', 10)).toBe(55);
    const error = await rejection(pool.run('capturingStepInside', 10));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.code).toBe('VISCOSE_INLINE_STEP');
    expect(error.cause.name).toBe(InlineStepError.name);
    expect(error.cause.message).toMatch(
      /map: an anonymous function cannot run on a worker from its source: it refers to `scale`, `offset`/,
    );
  });

  it('refuse an unknown task name on the main thread at once', () => {
    expect(() => pool.parIter(range(0, 3)).map('nope' as never)).toThrow(UnknownTaskError);
  });

  it('reject a step that returns a promise', async () => {
    const error = await rejection(pool.parIter(range(0, 100)).map('asyncStep').sum());
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.message).toMatch(/returned a promise; steps must be synchronous/);
  });

  it('reject with the error of a failing step, and stay usable', async () => {
    const error = await rejection(pool.parIter(range(0, 10_000)).maxLen(10).map('throwsOn', 5_000).sum());
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(error.cause.message).toBe('bad item 5000');
    expect(await pool.parIter(range(0, 100)).sum()).toBe(4950);
  });

  it('check their arguments where the chain is built', () => {
    expect(() => range(0, 1.5)).toThrow(RangeError);
    expect(() => pool.parIter(42 as never)).toThrow(TypeError);
    expect(() => pool.parIter(range(0, 3)).minLen(1.5)).toThrow(RangeError);
    expect(() => pool.parIter(range(0, 3)).maxLen(-1)).toThrow(RangeError);
    expect(() => pool.parIter(range(0, 3)).chunks(0)).toThrow(RangeError);
    expect(() => pool.parIter(range(0, 3)).map('square').chunks(2)).toThrow(/call it first/);
  });
});

describe('parallel iterators and shared memory', () => {
  it('read a shared typed array in place, where a copy would not fit', async () => {
    const pool = await ThreadPool.create<typeof Fixture>({ module, threads: 2, maxPayloadBytes: 1 << 16 });
    try {
      const n = 100_000;
      const shared = sharedFloat64(Array.from({ length: n }, (_, i) => i));
      expect(await pool.parIter(shared).sum()).toBe(((n - 1) * n) / 2);
      // The same values in private memory are copied into the description, which is too large.
      expect(await rejection(pool.parIter(Float64Array.from(shared)).sum())).toBeInstanceOf(PayloadTooLargeError);
    } finally {
      await pool.close();
    }
  });

  it('reject once the pool is closed', async () => {
    const pool = await ThreadPool.create<typeof Fixture>({ module, threads: 1 });
    await pool.close();
    expect(await rejection(pool.parIter(range(0, 10)).sum())).toBeInstanceOf(PoolClosedError);
  });
});
