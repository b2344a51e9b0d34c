// Cancelling calls with an AbortSignal: a queued call is withdrawn and never runs, a call waiting
// for a slot gives up its place, a running task sees isCancelled() while its caller moves on, a
// batch is withdrawn whole; the counts stay right and a signal shared by many calls gets one
// listener.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortError, InvalidOptionError, TaskError, ThreadPool } from 'viscose';
import type * as CancelErrors from '../fixtures/cancel-errors.mjs';
import type * as Tasks from '../fixtures/tasks.mjs';
import { waitFor } from '../support/wait-for.js';
import { rejection } from '../support/rejection.js';

const module = new URL('../fixtures/tasks.mjs', import.meta.url);

/** A pool of one worker, busy until the returned function is called. */
async function busyPool(options: { maxPendingTasks?: number } = {}) {
  const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, statistics: true, ...options });
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const counter = new Int32Array(new SharedArrayBuffer(4));
  // Announce both shared buffers first: a call whose buffers the workers do not know yet is queued
  // only once they do, behind calls made after it.
  await pool.run('ticket', counter);
  await pool.run('ticket', flag);
  counter[0] = 0;
  flag[0] = 0;
  const held = pool.run('holdUntil', flag);
  return { pool, counter, held, release: () => Atomics.store(flag, 0, 1) };
}

describe('cancellation', () => {
  it('withdraws a queued call: it rejects with AbortError and never runs', async () => {
    const { pool, counter, held, release } = await busyPool();
    await using _ = pool;
    const controller = new AbortController();
    const withdrawn = pool.with({ signal: controller.signal }).run('ticket', counter);
    const after = pool.run('ticket', counter);
    controller.abort(new Error('user left'));
    const error = await rejection(withdrawn);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.code).toBe('VISCOSE_ABORTED');
    expect(error.cause.message).toBe('user left');
    release();
    await held;
    expect(await after).toBe(0); // the withdrawn call never took a ticket
    expect(counter[0]).toBe(1);
    const stats = pool.statistics();
    expect(stats.cancelled).toBe(1);
    expect(stats.inFlight).toBe(0);
    expect(pool.pending).toBe(0);
  });

  it('withdraws a call waiting for a slot, and the slots keep working', async () => {
    const { pool, counter, held, release } = await busyPool({ maxPendingTasks: 1 });
    await using _ = pool;
    const controller = new AbortController();
    const waiting = pool.with({ signal: controller.signal }).run('ticket', counter);
    const next = pool.run('ticket', counter);
    expect(pool.pending).toBe(3);
    controller.abort();
    expect(await rejection(waiting)).toBeInstanceOf(AbortError);
    expect(pool.pending).toBe(2);
    release();
    await held;
    expect(await next).toBe(0);
    expect(await Promise.all(Array.from({ length: 5 }, () => pool.run('ticket', counter)))).toEqual([1, 2, 3, 4, 5]);
    expect(pool.pending).toBe(0);
  });

  it('lets a running task see that its caller aborted, while the caller moves on at once', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, statistics: true });
    for (const throwing of [false, true]) {
      const started = new Int32Array(new SharedArrayBuffer(4));
      const controller = new AbortController();
      const running = pool.with({ signal: controller.signal }).run('untilCancelled', started, 20_000, throwing);
      while (Atomics.load(started, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      controller.abort();
      expect(await rejection(running)).toBeInstanceOf(AbortError);
      // The task stops by itself soon after: the worker is free again.
      expect(await pool.run('add', 1, 2)).toBe(3);
    }
    const stats = pool.statistics();
    expect(stats.cancelled).toBe(2);
    expect(stats.completed + stats.failed + stats.cancelled + stats.inFlight).toBe(stats.submitted);
  });

  it('aborts the signal an asynchronous task asked for, on abort and on timeout', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    for (const how of ['abort', 'timeout'] as const) {
      const state = new Int32Array(new SharedArrayBuffer(4));
      await pool.run('ticket', state);
      state[0] = 0;
      const controller = new AbortController();
      const options = how === 'abort' ? { signal: controller.signal } : { timeout: 30 };
      const call = pool.with(options).run('awaitAbort', state, 20_000);
      while (Atomics.load(state, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      if (how === 'abort') controller.abort();
      await rejection(call);
      // The task's signal fired within a few milliseconds: it recorded it.
      const deadline = performance.now() + 5_000;
      while (Atomics.load(state, 0) !== 2 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      expect(state[0]).toBe(2);
    }
    expect(await pool.run('add', 1, 1)).toBe(2);
  });

  it("tells a task what it does wrong or that it was cancelled with viscose's errors", async () => {
    await using pool = await ThreadPool.create<typeof CancelErrors>({
      module: new URL('../fixtures/cancel-errors.mjs', import.meta.url),
      threads: 1,
    });
    const state = new Int32Array(new SharedArrayBuffer(8));
    const controller = new AbortController();
    const running = pool.with({ signal: controller.signal }).run('throwWhenCancelled', state, 20_000);
    while (Atomics.load(state, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    controller.abort();
    expect(await rejection(running)).toBeInstanceOf(AbortError);
    const deadline = performance.now() + 5_000;
    while (Atomics.load(state, 1) === 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(state[1]).toBe(1);
    const misuse = await rejection(pool.run('signalAfterAwait'));
    expect(misuse).toBeInstanceOf(TaskError);
    expect(misuse.cause).toMatchObject({ name: 'ThreadPoolError', code: 'VISCOSE_THREAD_POOL' });
  });

  it('withdraws a whole batch', async () => {
    const { pool, counter, held, release } = await busyPool();
    await using _ = pool;
    const controller = new AbortController();
    const batch = pool.with({ signal: controller.signal }).runBatch(
      'ticket',
      Array.from({ length: 40 }, () => [counter] as [Int32Array]),
    );
    const settled = pool.with({ signal: controller.signal }).runBatchSettled('ticket', [[counter], [counter]]);
    controller.abort();
    expect(await rejection(batch)).toBeInstanceOf(AbortError);
    expect(await rejection(settled)).toBeInstanceOf(AbortError);
    release();
    await held;
    expect(await pool.run('ticket', counter)).toBe(0);
    expect(pool.pending).toBe(0);
  });

  it('refuses at once with a signal already aborted, queueing nothing', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, statistics: true });
    const calls = pool.with({ signal: AbortSignal.abort('too late') });
    expect((await rejection(calls.run('add', 1, 2))).cause).toBe('too late');
    expect(await rejection(calls.runBatch('add', [[1, 2]]))).toBeInstanceOf(AbortError);
    expect(pool.statistics().submitted).toBe(0);
    expect(() => pool.with({ signal: 'no' as never })).toThrow(InvalidOptionError);
  });

  it('gives a signal shared by many calls one listener, and none once they settled', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const calls = pool.with({ signal: controller.signal });
      const pending = Array.from({ length: 200 }, (_, i) => calls.run('add', i, 1));
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      const results = await Promise.all(pending);
      expect(results[199]).toBe(200);
      // They all settled and were forgotten, and the signal with them.
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      controller.abort();
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('races aborts against workers claiming the calls, many times: each call runs at most once and settles once', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, statistics: true, maxPendingTasks: 16 });
    const runs = new Int32Array(new SharedArrayBuffer(4 * 2000));
    await pool.run('countRun', runs, 0);
    runs[0] = 0;
    let resolved = 0;
    let aborted = 0;
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      const controller = new AbortController();
      calls.push(
        pool
          .with({ signal: controller.signal })
          .run('countRun', runs, i)
          .then(
            (value) => {
              expect(value).toBe(i);
              resolved++;
            },
            (error: unknown) => {
              expect(error).toBeInstanceOf(AbortError);
              aborted++;
            },
          ),
      );
      if (i % 3 === 0) controller.abort();
      else if (i % 3 === 1) setImmediate(() => controller.abort());
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(calls);
    // Calls that ran after their abort finish later; a leaked slot would never drain.
    await waitFor(() => pool.pending === 0);
    expect(resolved + aborted).toBe(2000);
    expect(aborted).toBeGreaterThanOrEqual(667);
    expect(Math.max(...runs)).toBeLessThanOrEqual(1); // nothing ran twice
    const stats = pool.statistics();
    expect(stats.inFlight).toBe(0);
    expect(stats.completed + stats.failed + stats.cancelled).toBe(stats.submitted);
    expect(pool.pending).toBe(0);
    expect(
      await pool.runBatch(
        'add',
        Array.from({ length: 50 }, (_, i) => [i, 1] as [number, number]),
      ),
    ).toHaveLength(50);
  });
});
