// Time limits past what one setTimeout can wait (2^31−1 ms, about 24.8 days) and Infinity. Given
// more, setTimeout fires after 1 ms: `close({ timeout: 2 ** 31 })` terminated the pool at once and
// rejected the calls in flight, `queueTimeout: 2 ** 31` failed waiting requests within a few
// milliseconds, and `with({ timeout: Infinity })` re-armed a 1 ms timer (with a
// TimeoutOverflowWarning each time) for as long as the call ran. Each case below lets well over
// 1 ms pass before it releases the work it holds, so that a limit which fired early is seen.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, ParallelProcessor, ThreadPool } from 'viscose';
import type * as Requests from '../../fixtures/requests.mjs';
import type * as Tasks from '../../fixtures/tasks.mjs';
import { runtime } from '../../support/runtime.js';

const tasks = new URL('../../fixtures/tasks.mjs', import.meta.url);
const requests = new URL('../../fixtures/requests.mjs', import.meta.url);
const LONG = 2 ** 31;
/** Far longer than the 1 ms an overflowing timer waits, far shorter than any test timeout. */
const MOMENT_MS = 60;

const moment = () => new Promise((resolve) => setTimeout(resolve, MOMENT_MS));
const flag = () => new Int32Array(new SharedArrayBuffer(4));
const release = (hold: Int32Array) => {
  Atomics.store(hold, 0, 1);
  Atomics.notify(hold, 0);
};

let warnings: Error[];
const onWarning = (warning: Error) => warnings.push(warning);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
  expect(warnings.filter((warning) => warning.name === 'TimeoutOverflowWarning')).toEqual([]);
});

describe('time limits longer than a timer can wait', () => {
  it('close({ timeout: 2 ** 31 }) waits for the calls in flight', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasks, threads: 1 });
    const hold = flag();
    const call = pool.run('holdUntil', hold);
    const closed = pool.close({ timeout: LONG });
    await moment();
    release(hold);
    expect(await call).toBe(0);
    await closed;
  });

  it("a call's timeout of 2 ** 31 or Infinity lets it run", async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasks, threads: 2 });
    try {
      for (const timeout of [LONG, Infinity]) {
        const hold = flag();
        const call = pool.with({ timeout }).run('holdUntil', hold);
        await moment();
        release(hold);
        expect(await call).toBe(0);
      }
    } finally {
      await pool.close();
    }
  });

  // Deno refuses terminateAfter (src/pool/termination.ts).
  it.skipIf(runtime === 'deno')('terminateAfter of 2 ** 31 leaves a timed-out task’s worker running', async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasks, threads: 1, onError: (error) => errors.push(error) });
    try {
      const hold = flag();
      const call = pool.with({ timeout: 5, terminateAfter: LONG }).run('holdUntil', hold);
      await expect(call).rejects.toMatchObject({ name: 'TaskTimeoutError' });
      await moment();
      release(hold);
      // The same worker, never terminated, serves the next call.
      const [before] = await pool.snapshot();
      expect(await pool.run('add', 2, 3)).toBe(5);
      const [after] = await pool.snapshot();
      expect(after.tasksRun).toBeGreaterThan(before.tasksRun);
      expect(errors).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('a processor’s queueTimeout and timeout of 2 ** 31 let requests wait and run', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module: requests,
      handler: 'handle',
      threads: 1,
      maxPendingTasks: 1,
      queueTimeout: LONG,
      timeout: LONG,
    });
    const hold = flag();
    const running = processor.process({ id: 1, hold });
    const waiting = processor.process({ id: 2 });
    await moment();
    release(hold);
    expect(await running).toEqual({ id: 1, doubled: 2 });
    expect(await waiting).toEqual({ id: 2, doubled: 4 });
    expect(processor.statistics().requests.timedOut).toBe(0);
  });

  it('a monitor period of 2 ** 31 or Infinity does not report every millisecond', async () => {
    for (const monitorInterval of [LONG, Infinity]) {
      let reports = 0;
      await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
        module: requests,
        handler: 'handle',
        threads: 1,
        monitor: { statistics: () => reports++ },
        monitorInterval,
      });
      expect(await processor.process({ id: 1 })).toEqual({ id: 1, doubled: 2 });
      await moment();
      expect(reports).toBe(0);
    }
  });
});

describe('what a time limit accepts', () => {
  it('any positive number up to Infinity; anything else is refused, naming the option', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasks, threads: 1 });
    try {
      for (const timeout of [0, -1, Number.NaN, '5', null]) {
        expect(() => pool.with({ timeout: timeout as number })).toThrow(InvalidOptionError);
        expect(() => pool.with({ timeout: timeout as number })).toThrow(/timeout/);
      }
      expect(() => pool.with({ timeout: Infinity, terminateAfter: 10 })).toThrow(/terminateAfter: needs a finite timeout/);
      await expect(pool.close({ timeout: -1 })).rejects.toThrow(InvalidOptionError);
      await expect(pool.close({ timeout: Number.NaN })).rejects.toThrow(/timeout/);
      await expect(ParallelProcessor.create({ module: requests, handler: 'handle', threads: 1, queueTimeout: 0 })).rejects.toThrow(
        /queueTimeout/,
      );
    } finally {
      await pool.close({ timeout: Infinity });
    }
  });
});
