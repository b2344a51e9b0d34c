// Starting, naming, closing and terminating pools; keeping the process alive exactly while work is
// in flight; and proving that tasks never touch the control channel.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, PoolClosedError, ThreadPool, ThreadPoolBuilder, ThreadPoolError, WorkerCrashedError } from 'viscose';
import type * as Tasks from '../fixtures/tasks.mjs';
import { waitFor } from '../support/wait-for.js';
import type * as Handlers from '../fixtures/handlers.mjs';
import type * as DiesAtLoad from '../fixtures/dies-at-load.mjs';

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);
const handlersUrl = new URL('../fixtures/handlers.mjs', import.meta.url);
const run = promisify(execFile);

function script(name: string): string {
  return fileURLToPath(new URL(`../fixtures/scripts/${name}`, import.meta.url));
}

describe('closing', () => {
  it('close() drains every accepted call, then refuses new ones', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, maxPendingTasks: 4 });
    const accepted = Array.from({ length: 40 }, (_, i) => pool.run('delayedEcho', i, 2));
    const closed = pool.close();
    await expect(pool.run('add', 1, 1)).rejects.toBeInstanceOf(PoolClosedError);
    expect(await Promise.all(accepted)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await closed;
    expect(pool.close()).toBe(closed);
    expect(pool.pending).toBe(0);
  });

  it('terminate() rejects every pending call with PoolClosedError', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, maxPendingTasks: 4 });
    const running = Array.from({ length: 20 }, () => pool.run('spin', 200));
    const settled = Promise.allSettled(running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await pool.terminate();
    const outcomes = await settled;
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(PoolClosedError);
    }
    await expect(pool.run('add', 1, 1)).rejects.toBeInstanceOf(PoolClosedError);
    await pool.close();
  });

  it('supports await using', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script('await-using.ts')], { timeout: 20_000 });
    expect(stdout).toBe('result 3\nafter VISCOSE_POOL_CLOSED\n');
  });
});

describe('process lifetime', () => {
  it('an idle pool lets the process exit by itself', async () => {
    const started = performance.now();
    const { stdout } = await run(process.execPath, [script('idle-pool.mjs')], { timeout: 20_000 });
    expect(stdout).toBe('result 42\n');
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('a call in flight keeps the process alive until it settles', async () => {
    const { stdout } = await run(process.execPath, [script('in-flight.mjs')], { timeout: 20_000 });
    expect(stdout).toBe('result arrived\n');
  });
});

describe('naming and sizing', () => {
  it('names workers with the prefix and uses the names in errors', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, threadNamePrefix: 'resizer' });
    try {
      expect(pool.threadNames).toEqual(['resizer-0', 'resizer-1']);
      const me = await pool.run('whoAmI');
      expect(me.name).toBe(`resizer-${me.index}`);
      await expect(pool.run('fail', 'x', 'E')).rejects.toMatchObject({ worker: expect.stringMatching(/^resizer-[01]$/) });
    } finally {
      await pool.close();
    }
  });

  it('defaults to the available parallelism, overridden by VISCOSE_NUM_THREADS', async () => {
    const plain = await run(process.execPath, [script('default-threads.mjs')], {
      timeout: 20_000,
      env: { ...process.env, VISCOSE_NUM_THREADS: '' },
    });
    const { availableParallelism } = await import('node:os');
    expect(plain.stdout).toBe(`threads ${availableParallelism()}\n`);
    const overridden = await run(process.execPath, [script('default-threads.mjs')], {
      timeout: 20_000,
      env: { ...process.env, VISCOSE_NUM_THREADS: '3' },
    });
    expect(overridden.stdout).toBe('threads 3\n');
  });

  it('builds pools with the fluent builder', async () => {
    const pool = await new ThreadPoolBuilder<typeof Tasks>()
      .module(tasksUrl)
      .numThreads(3)
      .threadName((i) => `custom-${i * 10}`)
      .maxPendingTasks(16)
      .build();
    try {
      expect(pool.threads).toBe(3);
      expect(pool.threadNames).toEqual(['custom-0', 'custom-10', 'custom-20']);
      expect(await pool.run('add', 4, 5)).toBe(9);
    } finally {
      await pool.close();
    }
  });
});

describe('start and exit handlers', () => {
  it('runs the start handler on every worker before work, and the exit handler on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viscose-'));
    const log = join(dir, 'exit.log');
    try {
      const pool = await new ThreadPoolBuilder<typeof Handlers>()
        .module(handlersUrl)
        .numThreads(2)
        .startHandler('onStart')
        .exitHandler('onExit')
        .env({ ...process.env, VISCOSE_TEST_EXIT_LOG: log })
        .build();
      const indices = await Promise.all(Array.from({ length: 8 }, () => pool.run('startedIndex')));
      for (const index of indices) expect([0, 1]).toContain(index);
      await pool.close();
      expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual(['exit 0', 'exit 1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('workers whose event loop is busy with task code', () => {
  it('keep its timers running while idle, answer control calls and close', async () => {
    const pool = await ThreadPool.create({
      module: new URL('../fixtures/background.mjs', import.meta.url),
      threads: 2,
      startHandler: 'startTicker',
      spinMicros: 5,
    });
    try {
      const first = (await pool.run('tickCount')) as number;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await pool.run('tickCount')) as number).toBeGreaterThan(first);
      // Idle workers park with waitAsync here; control calls and tasks must still reach them.
      for (let i = 0; i < 20; i++) {
        expect(await pool.ping()).toEqual([0, 1]);
        await new Promise((resolve) => setTimeout(resolve, 1 + (i % 5)));
      }
    } finally {
      await pool.close();
    }
  });
});

describe('the control plane stays off the task path', () => {
  it('exchanges no control message while 10,000 tasks run', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2 });
    try {
      const before = pool.controlMessages;
      expect(before.sent).toBeGreaterThan(0); // start-up went over it
      await Promise.all(Array.from({ length: 5000 }, (_, i) => pool.run('add', i, i)));
      await pool.runBatch(
        'add',
        Array.from({ length: 5000 }, (_, i): [number, number] => [i, 1]),
      );
      expect(pool.controlMessages).toEqual(before);
      // A control call does use it, which shows the counter is live.
      expect(await pool.ping()).toEqual([0, 1]);
      expect(pool.controlMessages.sent).toBe(before.sent + 2);
    } finally {
      await pool.close();
    }
  });
});

describe('worker crashes', () => {
  it('fails the task whose worker exited, replaces the worker, and keeps serving', async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 2, onError: (error) => errors.push(error) });
    try {
      const crash = pool.run('exit', 3);
      await expect(crash).rejects.toBeInstanceOf(WorkerCrashedError);
      await expect(crash).rejects.toMatchObject({ code: 'VISCOSE_WORKER_CRASHED', exitCode: 3 });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.run('add', i, 1)));
      expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      await waitFor(async () => (await pool.ping()).length === 2);
      expect(errors).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('reports a crash that no caller can see to the error handler', async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 1, onError: (error) => errors.push(error) });
    try {
      expect(await pool.run('exitSoon', 9)).toBe('scheduled');
      await waitFor(() => errors.length > 0);
      expect(errors[0]).toBeInstanceOf(WorkerCrashedError);
      expect((errors[0] as WorkerCrashedError).exitCode).toBe(9);
      await waitFor(async () => (await pool.run('add', 2, 2).catch(() => 0)) === 4);
    } finally {
      await pool.close();
    }
  });
});

describe('closing with a timeout', () => {
  it('terminates a close that has not finished in time: what is still running rejects', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 1 });
    const flag = new Int32Array(new SharedArrayBuffer(4)); // never set: the task runs until terminated
    const held = pool.run('holdUntil', flag);
    const outcome = held.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await expect(pool.close({ timeout: 50 })).resolves.toBeUndefined();
    expect(await outcome).toBeInstanceOf(PoolClosedError);
    await expect(pool.run('add', 1, 2)).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('closes gracefully when the calls settle in time, delivering their results', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'viscose-close-')), 'exit.log');
    const pool = await ThreadPool.create<typeof Handlers>({
      module: handlersUrl,
      threads: 1,
      exitHandler: 'onExit',
      env: { ...process.env, VISCOSE_TEST_EXIT_LOG: log },
    });
    const result = pool.run('startedIndex');
    await pool.close({ timeout: 10_000 });
    expect(await result).toBeUndefined();
    expect(readFileSync(log, 'utf8')).toBe('exit 0\n'); // the exit handler ran: a graceful close
    rmSync(join(log, '..'), { recursive: true });
  });

  it('refuses a timeout that is not a number of milliseconds', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module: tasksUrl, threads: 1 });
    await expect(pool.close({ timeout: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(pool.close({ timeout: 'soon' as never })).rejects.toThrow(/timeout/);
  });
});

describe('workers that cannot be restarted', () => {
  it('are not replaced again when they die while loading the module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viscose-restart-'));
    const flag = join(dir, 'die');
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof DiesAtLoad>({
      module: new URL('../fixtures/dies-at-load.mjs', import.meta.url),
      threads: 1,
      env: { ...process.env, VISCOSE_TEST_DIE_AT_LOAD: flag },
      onError: (error) => errors.push(error),
    });
    try {
      writeFileSync(flag, '');
      await expect(pool.run('exitNow', 1)).rejects.toBeInstanceOf(WorkerCrashedError);
      await waitFor(() => errors.some((error) => error instanceof ThreadPoolError));
      await expect(pool.run('ping')).rejects.toThrow(/every worker of the pool has died/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(errors.filter((error) => /could not be restarted/.test(error.message))).toHaveLength(1);
      expect(errors.find((error) => /could not be restarted/.test(error.message))!.message).toMatch(/exited with code 7/);
    } finally {
      await pool.terminate();
      rmSync(dir, { recursive: true });
    }
  });

  it('are not replaced again and again: the pool goes on with the others, then fails every call once none is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viscose-restart-'));
    const flag = join(dir, 'refuse');
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Handlers>({
      module: handlersUrl,
      threads: 2,
      startHandler: 'refuseOnceFlagged',
      env: { ...process.env, VISCOSE_TEST_REFUSE_START: flag },
      onError: (error) => errors.push(error),
    });
    try {
      writeFileSync(flag, ''); // from now on a new worker's start handler throws
      await expect(pool.run('exitNow', 1)).rejects.toBeInstanceOf(WorkerCrashedError);
      const notRestarted = () => errors.filter((error) => error instanceof ThreadPoolError && /could not be restarted/.test(error.message));
      await waitFor(() => notRestarted().length === 1);
      expect(notRestarted()[0].message).toMatch(/start refused after a restart/);
      // The other worker still serves.
      await expect(pool.run('startedIndex')).resolves.toBeUndefined();
      await expect(pool.run('exitNow', 1)).rejects.toBeInstanceOf(WorkerCrashedError);
      await waitFor(() => notRestarted().length === 2);
      await waitFor(async () => (await pool.run('startedIndex').catch((error: unknown) => error)) instanceof ThreadPoolError);
      await expect(pool.run('startedIndex')).rejects.toThrow(/every worker of the pool has died/);
      // No loop of workers dying at birth: two replacements were tried, no more.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(notRestarted()).toHaveLength(2);
    } finally {
      await pool.terminate();
      rmSync(dir, { recursive: true });
    }
  });
});
