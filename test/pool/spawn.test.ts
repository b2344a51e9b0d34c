// pool.spawn: a call nobody awaits (Rayon's ThreadPool::spawn). It runs; whatever goes wrong with
// it, the task's own error or a refusal, reaches onError and nothing else.
import { describe, expect, it } from 'vitest';
import { PoolClosedError, TaskError, ThreadPool, UnknownTaskError } from 'viscose';
import type * as Tasks from '../fixtures/tasks.mjs';

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);

describe('pool.spawn', () => {
  it('runs the call, returns nothing, and close() waits for it', async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, onError: (error) => errors.push(error) });
    const counter = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 100; i++) expect(pool.spawn('ticket', counter)).toBeUndefined();
    await pool.close();
    expect(Atomics.load(counter, 0)).toBe(100);
    expect(errors).toEqual([]);
  });

  it("sends the task's failure, a refusal and a closed pool's refusal to onError", async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 1, onError: (error) => errors.push(error) });
    pool.spawn('fail', 'spawned and failed', 'E_SPAWN');
    pool.spawn('nope' as never);
    await pool.close();
    pool.spawn('add', 1, 2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(3);
    const [failed, unknown, closed] = [
      errors.find((e) => e instanceof TaskError),
      errors.find((e) => e instanceof UnknownTaskError),
      errors.at(-1),
    ];
    expect((failed as TaskError).cause).toMatchObject({ message: 'spawned and failed', code: 'E_SPAWN' });
    expect(unknown).toBeInstanceOf(UnknownTaskError);
    expect(closed).toBeInstanceOf(PoolClosedError);
  });
});
