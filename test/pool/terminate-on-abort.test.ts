// terminateOnAbort: an abort of a running call's signal terminates its worker, which is replaced
// through the crash path; the call rejects with AbortError, and whatever else the worker ran fails
// with WorkerCrashedError or runs again, never hangs. A call not started yet is only withdrawn.
import { describe, expect, it } from 'vitest';
import { AbortError, InvalidOptionError, ThreadPool, type WorkerExited, WorkerCrashedError } from 'viscose';
import type * as Tasks from '../fixtures/pool-events.mjs';
import { openGate, shutGate } from '../support/gate.js';
import { rejection } from '../support/rejection.js';
import { runtime } from '../support/runtime.js';
import { waitFor } from '../support/wait-for.js';

const module = new URL('../fixtures/pool-events.mjs', import.meta.url);
const HOLDER = 2;
const THIEF = 1;
const LONG = 600_000;

function exits(pool: ThreadPool<typeof Tasks>): WorkerExited[] {
  const seen: WorkerExited[] = [];
  pool.on('workerExit', (worker) => seen.push(worker));
  return seen;
}

describe.skipIf(runtime === 'deno')('terminateOnAbort', () => {
  it('stops a synchronous task that never looks at isCancelled(): its worker is replaced', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const gone = exits(pool);
    const g = shutGate();
    const controller = new AbortController();
    const call = pool.with({ signal: controller.signal, terminateOnAbort: true }).run('hold', g, LONG);
    await waitFor(() => Atomics.load(g, HOLDER) !== 0);
    controller.abort('enough');
    const error = await rejection(call);
    expect(error).toBeInstanceOf(AbortError);
    expect(error.cause).toBe('enough');
    // The only worker was spinning for minutes: this runs only on its replacement.
    expect(await pool.run('add', 20, 22)).toBe(42);
    await waitFor(() => gone.length === 1);
    expect(gone[0]).toMatchObject({ index: 0, why: 'killed' });
    expect(pool.pending).toBe(0);
  });

  it('is the default for every call with a signal when the pool option says so; a call may opt out', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, terminateOnAbort: true });
    const gone = exits(pool);
    const g = shutGate();
    const controller = new AbortController();
    const call = pool.with({ signal: controller.signal }).run('hold', g, LONG);
    await waitFor(() => Atomics.load(g, HOLDER) !== 0);
    controller.abort();
    expect(await rejection(call)).toBeInstanceOf(AbortError);
    expect(await pool.run('add', 1, 1)).toBe(2);
    await waitFor(() => gone.length === 1);
    // Opted out: the task is only told, and returns by itself.
    const polite = new AbortController();
    const g2 = shutGate();
    const told = pool.with({ signal: polite.signal, terminateOnAbort: false }).run('untilCancelled', g2, LONG);
    await waitFor(() => Atomics.load(g2, HOLDER) !== 0);
    polite.abort();
    expect(await rejection(told)).toBeInstanceOf(AbortError);
    expect(await pool.run('add', 2, 2)).toBe(4);
    expect(gone).toHaveLength(1);
  });

  it('only withdraws a call that has not started: the worker running another call is left alone', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, coalesce: 'never' });
    const gone = exits(pool);
    const g = shutGate();
    const blocker = pool.run('held', g, 'blocker');
    const controller = new AbortController();
    const queued = pool.with({ signal: controller.signal, terminateOnAbort: true }).run('add', 1, 2);
    controller.abort();
    expect(await rejection(queued)).toBeInstanceOf(AbortError);
    openGate(g);
    expect(await blocker).toBe('blocker');
    expect(gone).toEqual([]);
  });

  it('fails the call whose join was waiting on the killed worker, or runs it again with retries', async () => {
    for (const retries of [0, 1]) {
      await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, coalesce: 'never' });
      const g = shutGate();
      // The join's second half is stolen by the other worker and held there; the first half's
      // worker then waits in the join and takes the next call from the queue meanwhile.
      const forked = pool.with({ retries }).run('joinHeldByThief', g);
      await waitFor(() => Atomics.load(g, THIEF) !== 0);
      const controller = new AbortController();
      const killed = pool.with({ signal: controller.signal, terminateOnAbort: true }).run('hold', g, LONG);
      await waitFor(() => Atomics.load(g, HOLDER) !== 0);
      const thief = Atomics.load(g, THIEF) - 1;
      expect(Atomics.load(g, HOLDER) - 1).toBe(1 - thief);
      controller.abort();
      expect(await rejection(killed)).toBeInstanceOf(AbortError);
      if (retries === 0) {
        expect(await rejection(forked)).toBeInstanceOf(WorkerCrashedError);
        openGate(g);
      } else {
        // Run again on the replacement, its second half held at the gate like the first time's.
        openGate(g);
        const halves = await forked;
        expect(halves).toHaveLength(2);
        for (const thread of halves) expect([0, 1]).toContain(thread);
      }
      expect(await pool.run('add', 3, 4)).toBe(7);
      await waitFor(() => pool.pending === 0);
    }
  });

  it('terminates the workers running the chunks of an aborted batch', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const gone = exits(pool);
    const g = shutGate();
    const controller = new AbortController();
    const batch = pool.with({ signal: controller.signal, terminateOnAbort: true, chunkSize: 1 }).runBatch('hold', [
      [g, LONG],
      [g, LONG],
    ]);
    await waitFor(() => Atomics.load(g, HOLDER) !== 0);
    controller.abort();
    expect(await rejection(batch)).toBeInstanceOf(AbortError);
    expect(await pool.run('add', 5, 5)).toBe(10);
    await waitFor(() => gone.length === 1);
    expect(gone[0].why).toBe('killed');
  });

  it('is checked', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    expect(() => pool.with({ terminateOnAbort: 'yes' as unknown as boolean })).toThrow(InvalidOptionError);
    expect(await rejection(ThreadPool.create({ module, threads: 1, terminateOnAbort: 1 as unknown as boolean }))).toBeInstanceOf(
      InvalidOptionError,
    );
  });
});

describe.runIf(runtime === 'deno')('terminateOnAbort on Deno', () => {
  it('is refused, as terminate() does not stop a running thread there', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    expect(() => pool.with({ terminateOnAbort: true })).toThrow(/terminateOnAbort is not available on Deno/);
    expect(await rejection(ThreadPool.create({ module, threads: 1, terminateOnAbort: true }))).toBeInstanceOf(InvalidOptionError);
  });
});
