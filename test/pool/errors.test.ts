// Failures are typed, carry what the caller needs to act on them, and never leave anything queued
// behind when a call is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EncodeError,
  InvalidOptionError,
  PayloadTooLargeError,
  PoolClosedError,
  TaskError,
  ThreadPool,
  ThreadPoolError,
  UnknownTaskError,
  ViscoseError,
} from 'viscose';
import { rejection } from '../support/rejection.js';

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);

describe('task failures', () => {
  let pool: ThreadPool;
  beforeAll(async () => {
    pool = await ThreadPool.create({ module: tasksUrl, threads: 2, threadNamePrefix: 'errs' });
  });
  afterAll(() => pool.close());

  it('rejects with a TaskError that carries the original error intact', async () => {
    const error = await rejection(pool.run('fail', 'boom', 'E_BOOM'));
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toBeInstanceOf(ViscoseError);
    expect(error.code).toBe('VISCOSE_TASK_FAILED');
    expect(error.task).toBe('fail');
    expect(error.worker).toMatch(/^errs-[01]$/);
    expect(error.message).toContain('RangeError: boom');
    const original = error.cause;
    expect(original).toBeInstanceOf(RangeError);
    expect(original.name).toBe('RangeError');
    expect(original.message).toBe('boom');
    expect(original.code).toBe('E_BOOM');
    expect(original.detail).toEqual({ reason: 'test' });
    // The stack is the worker's: it points into the task module, not into the pool.
    expect(original.stack).toContain('tasks.mjs');
    expect(original.stack).toMatch(/at fail /);
    expect(original.cause).toBeInstanceOf(TypeError);
    expect(original.cause.message).toBe('inner cause');
  });

  it('reports async rejections the same way', async () => {
    const error = await rejection(pool.run('failLater', 'async boom'));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.message).toBe('async boom');
  });

  it('keeps thrown non-errors as the cause', async () => {
    const error = await rejection(pool.run('throwString'));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause).toBe('plain string');
  });

  it('reduces a thrown error that cannot be encoded to its name, message, stack and code', async () => {
    const error = await rejection(pool.run('unencodableError'));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.message).toBe('has a function');
    expect(error.cause.stack).toContain('unencodableError');
  });

  it('fails a task whose result cannot be encoded, naming where', async () => {
    const error = await rejection(pool.run('returnsFunction'));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.code).toBe('VISCOSE_UNENCODABLE');
    expect(error.cause.message).toContain('result.f');
  });

  it('fails only the calls of a settled batch whose result or error cannot be encoded', async () => {
    const argsList = Array.from({ length: 10 }, (_, i): [number, number, number] => [i, 3, 7]);
    // One chunk of ten: the bad outcomes share a slot with good ones.
    const settled = await pool.with({ chunkSize: 10 }).runBatchSettled('badOutcomeAt', argsList);
    settled.forEach((result, i) => {
      if (i === 3) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason;
        expect(error).toBeInstanceOf(TaskError);
        expect(error).toMatchObject({ index: 3, cause: { code: 'VISCOSE_UNENCODABLE' } });
        expect(error.cause.message).toContain('result.f');
      } else if (i === 7) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason;
        expect(error).toBeInstanceOf(TaskError);
        expect(error).toMatchObject({ index: 7, cause: { message: 'bad error 7' } });
      } else {
        expect(result).toEqual({ status: 'fulfilled', value: i });
      }
    });
  });

  it('names the failing call of a batch', async () => {
    const argsList = Array.from({ length: 1000 }, (_, i): [number, number] => [i, 642]);
    const error = await rejection(pool.runBatch('failAt', argsList));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.index).toBe(642);
    expect(error.message).toContain('batch index 642');
    expect(error.cause.code).toBe('E_BAD_CALL');
    expect(error.cause.message).toBe('call 642 is bad');
  });

  it('keeps working after failures', async () => {
    await Promise.allSettled(Array.from({ length: 200 }, (_, i) => pool.run('fail', `f${i}`, 'E')));
    expect(await pool.run('add', 1, 1)).toBe(2);
    expect(pool.pending).toBe(0);
  });
});

describe('refused calls queue nothing', () => {
  let pool: ThreadPool;
  beforeAll(async () => {
    pool = await ThreadPool.create({ module: tasksUrl, threads: 1, maxPayloadBytes: 1024 });
  });
  afterAll(() => pool.close());

  it.each(['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'rejects the unknown task name %j with UnknownTaskError',
    async (name) => {
      const error = await rejection(pool.run(name));
      expect(error).toBeInstanceOf(UnknownTaskError);
      expect(error.code).toBe('VISCOSE_UNKNOWN_TASK');
      expect(error.task).toBe(name);
      expect(error.message).toContain('add');
      expect(pool.pending).toBe(0);
      await expect(pool.runBatch(name, [[]])).rejects.toBeInstanceOf(UnknownTaskError);
    },
  );

  it('rejects functions and symbols in arguments, naming the argument', async () => {
    const fn = await rejection(pool.run('echo', 1, { callback: () => {} }));
    expect(fn).toBeInstanceOf(EncodeError);
    expect(fn.code).toBe('VISCOSE_UNENCODABLE');
    expect(fn.path).toBe('args[1].callback');
    const symbol = await rejection(pool.run('echo', [1, 2, Symbol('s')]));
    expect(symbol.path).toBe('args[0][2]');
    const top = await rejection(pool.run('echo', () => 1));
    expect(top.path).toBe('args[0]');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const cycle = await rejection(pool.run('echo', circular));
    expect(cycle).toBeInstanceOf(EncodeError);
    expect(cycle.path).toBe('args[0].self');
    expect(pool.pending).toBe(0);
  });

  it('rejects a bad batch before queueing any of it', async () => {
    const argsList: unknown[][] = Array.from({ length: 1000 }, (_, i) => [i]);
    argsList[777] = [{ nested: [Symbol('bad')] }];
    const error = await rejection(pool.runBatch('echo', argsList));
    expect(error).toBeInstanceOf(EncodeError);
    expect(error.path).toBe('argsList[777][0].nested[0]');
    expect(pool.pending).toBe(0);
    await expect(pool.runBatch('echo', [1, 2] as unknown as unknown[][])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('rejects payloads over maxPayloadBytes with PayloadTooLargeError', async () => {
    const error = await rejection(pool.run('echo', 'x'.repeat(5000)));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.code).toBe('VISCOSE_PAYLOAD_TOO_LARGE');
    expect(pool.pending).toBe(0);
    // A result over the limit fails the task instead.
    const result = await rejection(pool.run('bytes', 4096));
    expect(result).toBeInstanceOf(TaskError);
    expect(result.cause.code).toBe('VISCOSE_PAYLOAD_TOO_LARGE');
  });
});

describe('invalid options', () => {
  it.each([
    [{}, 'module'],
    [{ module: './relative.mjs' }, 'module'],
    [{ module: tasksUrl, threads: -1 }, 'threads'],
    [{ module: tasksUrl, threads: null }, 'threads'],
    [{ module: tasksUrl, threads: 1.5 }, 'threads'],
    [{ module: tasksUrl, threads: 5000 }, 'threads'],
    [{ module: tasksUrl, maxPendingTasks: 0 }, 'maxPendingTasks'],
    [{ module: tasksUrl, inlinePayloadBytes: 8 }, 'inlinePayloadBytes'],
    [{ module: tasksUrl, maxPayloadBytes: -1 }, 'maxPayloadBytes'],
    [{ module: tasksUrl, spinMicros: -1 }, 'spinMicros'],
    [{ module: tasksUrl, asyncTasksPerWorker: 0 }, 'asyncTasksPerWorker'],
    [{ module: tasksUrl, threadNamePrefix: '' }, 'threadNamePrefix'],
    [{ module: tasksUrl, threadName: () => '' }, 'threadName'],
    [{ module: tasksUrl, execArgv: '--foo' }, 'execArgv'],
    [{ module: tasksUrl, startHandler: 42 }, 'startHandler'],
    [{ module: tasksUrl, onError: 'log' }, 'onError'],
    [{ module: tasksUrl, thread: 2 }, 'thread'],
  ])('rejects %o naming %s', async (options, option) => {
    const error = await rejection(ThreadPool.create(options as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.code).toBe('VISCOSE_INVALID_OPTION');
    expect(error.option).toBe(option);
    expect(error.message).toContain(option);
  });

  it('rejects an unusable VISCOSE_NUM_THREADS', async () => {
    const saved = process.env.VISCOSE_NUM_THREADS;
    process.env.VISCOSE_NUM_THREADS = 'many';
    try {
      const error = await rejection(ThreadPool.create({ module: tasksUrl }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.option).toBe('VISCOSE_NUM_THREADS');
    } finally {
      if (saved === undefined) delete process.env.VISCOSE_NUM_THREADS;
      else process.env.VISCOSE_NUM_THREADS = saved;
    }
  });
});

describe('pools that cannot start', () => {
  it('fails with ThreadPoolError when the module does not load', async () => {
    const error = await rejection(ThreadPool.create({ module: new URL('../fixtures/broken.mjs', import.meta.url), threads: 2 }));
    expect(error).toBeInstanceOf(ThreadPoolError);
    expect(error.code).toBe('VISCOSE_THREAD_POOL');
    expect(error.message).toContain('this module cannot load');
  });

  it('fails with ThreadPoolError when the module does not exist', async () => {
    const error = await rejection(ThreadPool.create({ module: new URL('../fixtures/missing.mjs', import.meta.url), threads: 1 }));
    expect(error).toBeInstanceOf(ThreadPoolError);
    expect(error.message).toContain('missing.mjs');
  });

  it('fails with ThreadPoolError when the module exports no function', async () => {
    const error = await rejection(ThreadPool.create({ module: new URL('../fixtures/no-functions.mjs', import.meta.url), threads: 1 }));
    expect(error).toBeInstanceOf(ThreadPoolError);
    expect(error.message).toContain('no function');
  });

  it('fails with ThreadPoolError when the start handler throws or is missing', async () => {
    const handlers = new URL('../fixtures/handlers.mjs', import.meta.url);
    const thrown = await rejection(ThreadPool.create({ module: handlers, threads: 1, startHandler: 'failingStart' }));
    expect(thrown).toBeInstanceOf(ThreadPoolError);
    expect(thrown.message).toContain('start handler refused');
    const missing = await rejection(ThreadPool.create({ module: handlers, threads: 1, startHandler: 'noSuchExport' }));
    expect(missing).toBeInstanceOf(ThreadPoolError);
    expect(missing.message).toContain('noSuchExport');
  });
});

describe('closed pools', () => {
  it('rejects calls after close() with PoolClosedError', async () => {
    const pool = await ThreadPool.create({ module: tasksUrl, threads: 1 });
    await pool.close();
    const error = await rejection(pool.run('add', 1, 2));
    expect(error).toBeInstanceOf(PoolClosedError);
    expect(error.code).toBe('VISCOSE_POOL_CLOSED');
    await expect(pool.runBatch('add', [[1, 2]])).rejects.toBeInstanceOf(PoolClosedError);
  });
});
