// Errors that sent the user the wrong way: each one now names what was really wrong, and is a
// ViscoseError (with the original error as `cause` where one came from elsewhere).
import { describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  PoolClosedError,
  ThreadPool,
  ThreadPoolBuilder,
  ThreadPoolError,
  UnknownTaskError,
  ViscoseError,
} from 'viscose';
import type * as Tasks from '../../fixtures/tasks.mjs';
import { rejection } from '../../support/rejection.js';
import { runtime } from '../../support/runtime.js';

const module = new URL('../../fixtures/tasks.mjs', import.meta.url);

describe('a closed pool says it is closed', () => {
  it('ping() and snapshot() after close() or terminate() reject with PoolClosedError', async () => {
    for (const stop of ['close', 'terminate'] as const) {
      const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
      await pool[stop]();
      for (const ask of [() => pool.ping(), () => pool.snapshot()]) {
        const error = await rejection(ask());
        expect(error).toBeInstanceOf(PoolClosedError);
        expect((error as Error).message).toBe('the pool is closed');
      }
    }
  });
});

describe('results', () => {
  it('a result the main thread cannot decode: ThreadPoolError with the decoder’s error as cause', async () => {
    const pool = await ThreadPool.create({ module: new URL('../../fixtures/worker-only-extension.mjs', import.meta.url), threads: 1 });
    try {
      const error = await rejection(pool.run('workerOnly'));
      expect(error).toBeInstanceOf(ThreadPoolError);
      expect((error as Error).message).toMatch(/^the outcome of a task could not be decoded on the main thread: /);
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(await pool.run('add', 1, 2)).toBe(3);
    } finally {
      await pool.close();
    }
  });
});

describe('task names', () => {
  it('a name that is not a string is refused as such, without calling its toString', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    try {
      const asArray = await rejection(pool.run(['echo'] as unknown as 'echo'));
      expect(asArray).toBeInstanceOf(UnknownTaskError);
      expect((asArray as Error).message).toMatch(/^a task name is a string, got an array: known tasks: .*echo/);
      const throwing = {
        toString: () => {
          throw new Error('toString was called');
        },
      };
      const asObject = await rejection(pool.run(throwing as unknown as 'echo'));
      expect(asObject).toBeInstanceOf(UnknownTaskError);
      expect((asObject as Error).message).toMatch(/got an object/);
      const viaBroadcast = await rejection(pool.broadcast(3 as unknown as 'echo'));
      expect(viaBroadcast).toBeInstanceOf(UnknownTaskError);
      expect((viaBroadcast as Error).message).toMatch(/got a number 3/);
      // A string that names nothing keeps its message.
      expect((await rejection(pool.run('nope' as 'echo'))).message).toMatch(/^unknown task "nope"/);
      expect(await pool.run('add', 2, 3)).toBe(5);
    } finally {
      await pool.close();
    }
  });
});

describe('options', () => {
  it('a module URL of another scheme is called that, not "relative"', async () => {
    const error = await rejection(ThreadPool.create({ module: 'http://example.com/tasks.js', threads: 1 }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toContain('is a http: URL');
    expect((error as Error).message).not.toContain('relative');
    expect((await rejection(ThreadPool.create({ module: './tasks.js', threads: 1 }))).message).toContain('is relative');
  });

  it('restartWorker names the type of an index that is not a number', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      const error = await rejection(pool.restartWorker('0' as unknown as number));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message).toContain('got "0"');
    } finally {
      await pool.close();
    }
  });

  it('a threadName function that throws: InvalidOptionError with the error as cause', async () => {
    const thrown = new Error('no names today');
    const error = await rejection(
      ThreadPool.create({
        module,
        threads: 1,
        threadName: () => {
          throw thrown;
        },
      }),
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ option: 'threadName', cause: thrown });
    expect((error as Error).message).toContain('no names today');
  });

  // Bun and Deno accept any execArgv without checking it.
  it.skipIf(runtime !== 'node')('an execArgv flag Node refuses for workers: InvalidOptionError with Node’s error as cause', async () => {
    const error = await rejection(ThreadPool.create({ module, threads: 1, execArgv: ['--max-semi-space-size=16'] }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ option: 'execArgv', cause: { code: 'ERR_WORKER_INVALID_EXEC_ARGV' } });
  });

  it('threads: 0 means the default, as numThreads(0) does; null is refused', async () => {
    const zero = await ThreadPool.create({ module, threads: 0 });
    const built = await new ThreadPoolBuilder().module(module).numThreads(0).build();
    const absent = await ThreadPool.create({ module });
    try {
      expect(zero.threads).toBe(absent.threads);
      expect(built.threads).toBe(absent.threads);
    } finally {
      await Promise.all([zero.close(), built.close(), absent.close()]);
    }
    const error = await rejection(ThreadPool.create({ module, threads: null as unknown as number }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(/threads: expected an integer from 1 to \d+, or 0 for the default, got null/);
  });

  it('every refusal above is a ViscoseError', async () => {
    const errors = await Promise.all([
      rejection(ThreadPool.create({ module: 'http://example.com/tasks.js' })),
      rejection(ThreadPool.create({ module, threads: -1 })),
      rejection(
        ThreadPool.create({
          module,
          threadName: () => {
            throw 'a string';
          },
        }),
      ),
    ]);
    for (const error of errors) expect(error).toBeInstanceOf(ViscoseError);
  });
});
