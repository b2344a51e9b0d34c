// Run-time limits: a call's timeout counts from when a worker starts it; past it the call rejects
// with TaskTimeoutError and the task sees isCancelled(); with terminateAfter, a task that runs on
// regardless gets its worker terminated and replaced.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, TaskTimeoutError, ThreadPool } from 'viscose';
import type * as Tasks from '../fixtures/tasks.mjs';
import { rejection } from '../support/rejection.js';
import { runtime } from '../support/runtime.js';

const module = new URL('../fixtures/tasks.mjs', import.meta.url);

describe('run-time limits', () => {
  it('time a task out once it has run too long, and let it see that through isCancelled()', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, statistics: true });
    const started = new Int32Array(new SharedArrayBuffer(4));
    await pool.run('ticket', started);
    const error = await rejection(pool.with({ timeout: 50 }).run('untilCancelled', started, 20_000));
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error).toMatchObject({ code: 'VISCOSE_TIMED_OUT', task: 'untilCancelled', timeoutMs: 50 });
    // The task noticed and returned: the worker is free for the next call.
    expect(await pool.run('add', 2, 3)).toBe(5);
    const stats = pool.statistics();
    expect(stats.cancelled).toBe(1);
    expect(stats.completed + stats.failed + stats.cancelled + stats.inFlight).toBe(stats.submitted);
  });

  it('count the time from the start, not from the queue', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const busy = pool.run('stubborn', 200);
    // Queued behind 200 ms of work, then runs for 20 ms: within a 100 ms limit.
    const limited = pool.with({ timeout: 100 }).run('stubborn', 20);
    expect(await busy).toBe('done');
    expect(await limited).toBe('done');
  });

  it.skipIf(runtime === 'deno')('terminate and replace the worker of a task that runs on past its timeout when asked to', async () => {
    const errors: Error[] = [];
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, onError: (error) => errors.push(error) });
    const error = await rejection(pool.with({ timeout: 50, terminateAfter: 50 }).run('stubborn', 60_000));
    expect(error).toBeInstanceOf(TaskTimeoutError);
    // The replacement serves; the terminated worker's exit was expected, not reported.
    expect(await pool.run('add', 1, 1)).toBe(2);
    expect(errors).toEqual([]);
    expect(pool.pending).toBe(0);
  });

  it.runIf(runtime === 'deno')('refuse terminateAfter on Deno, whose terminate() leaves the thread running', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    expect(() => pool.with({ timeout: 50, terminateAfter: 50 })).toThrow(/terminateAfter is not available on Deno/);
  });

  it('leave a task that ignores its timeout alone without terminateAfter: its result is dropped', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    expect(await rejection(pool.with({ timeout: 20 }).run('stubborn', 150))).toBeInstanceOf(TaskTimeoutError);
    expect(await pool.run('add', 1, 2)).toBe(3); // ran after the stubborn task finished
    expect(pool.pending).toBe(0);
  });

  it('are checked', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    expect(() => pool.with({ timeout: 0 })).toThrow(InvalidOptionError);
    expect(() => pool.with({ terminateAfter: 10 })).toThrow(/needs a finite timeout/);
    await expect(pool.with({ timeout: 10 }).runBatch('add', [[1, 2]])).rejects.toThrow(/run only/);
  });
});
