// What a caller gets for a sort that cannot work: a clear error, never a hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NotATaskError, PoolClosedError, TaskError, ThreadPool, UnknownTaskError } from 'viscose';
import type * as Fixture from '../fixtures/sort.mjs';
import { rejection } from '../support/rejection.js';

const module = new URL('../fixtures/sort.mjs', import.meta.url);

describe('parallel sort errors', () => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads: 2 });
  });
  afterAll(() => pool.close());

  it('refuses what is not a typed array, saying what it got', async () => {
    const array = await rejection(pool.parSort([3, 1, 2] as never));
    expect(array).toBeInstanceOf(TypeError);
    expect((array as Error).message).toMatch(/parSort sorts a typed array .*got an array: to sort an array, use parSortBy/);
    expect(((await rejection(pool.parSortUnstable(new DataView(new ArrayBuffer(8)) as never))) as Error).message).toMatch(
      /parSortUnstable sorts a typed array .*got an object/,
    );
    expect(((await rejection(pool.parSortBy('text' as never, 'ascending'))) as Error).message).toMatch(
      /parSortBy sorts a typed array or an array; got string/,
    );
  });

  it('refuses a typed array whose buffer is detached', async () => {
    const view = new Float64Array(100_000);
    structuredClone(view.buffer, { transfer: [view.buffer] });
    const error = await rejection(pool.parSort(view));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe("parSort: the typed array's buffer is detached");
  });

  it('refuses an unknown compare task before anything runs', async () => {
    expect(await rejection(pool.parSortBy([2, 1], 'nope' as never))).toBeInstanceOf(UnknownTaskError);
  });

  it('rejects with the compare task error as cause, from an array and from a typed array', async () => {
    for (const target of [Array.from({ length: 50_000 }, (_, i) => i), new Float64Array(new SharedArrayBuffer(8 * 50_000))]) {
      const error = await rejection(pool.parSortBy(target, 'failingCompare'));
      expect(error).toBeInstanceOf(TaskError);
      expect(((error as TaskError).cause as Error).message).toBe('this compare task fails');
    }
    // The pool goes on.
    expect(await pool.parSortBy([3, 1, 2], 'ascending')).toEqual([1, 2, 3]);
  });

  it('inside a task: a closure is refused, a plain array needs parSortBy, a failing compare throws', async () => {
    const closure = await rejection(pool.run('sortWithClosure', [2, 1]));
    expect(((closure as TaskError).cause as NotATaskError).code).toBe('VISCOSE_NOT_A_TASK');
    expect(((closure as TaskError).cause as Error).message).toMatch(/^parSortBy \(compare\): an anonymous function is not a task/);
    const plain = await rejection(pool.run('sortPlainArray', [2, 1]));
    expect(((plain as TaskError).cause as Error).message).toMatch(/parSort sorts a typed array .*use parSortBy/);
    const failing = await rejection(pool.run('sortByInside', new Float64Array(new SharedArrayBuffer(8 * 40_000)), 'failingCompare'));
    expect(((failing as TaskError).cause as Error).message).toBe('this compare task fails');
  });

  it('rejects after close()', async () => {
    const closed = await ThreadPool.create<typeof Fixture>({ module, threads: 1 });
    await closed.close();
    expect(await rejection(closed.parSort(new Float64Array(4)))).toBeInstanceOf(PoolClosedError);
    expect(await rejection(closed.parSortBy([1], 'ascending'))).toBeInstanceOf(PoolClosedError);
  });
});
