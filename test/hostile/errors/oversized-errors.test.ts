// Failures larger than maxPayloadBytes: the call still fails with its own error, cut down to fit,
// instead of taking its worker down (a worker that cannot store an error cannot settle the call).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError, ThreadPool } from 'viscose';
import { rejection } from '../../support/rejection.js';

const tasks = new URL('../../fixtures/tasks.mjs', import.meta.url);
const forkjoin = new URL('../../fixtures/forkjoin.mjs', import.meta.url);

describe.each([1024, 64])('with maxPayloadBytes %i', (maxPayloadBytes) => {
  let pool: ThreadPool;
  beforeAll(async () => {
    pool = await ThreadPool.create({ module: tasks, threads: 1, maxPayloadBytes });
  });
  afterAll(() => pool.close());

  it('an error too large to cross keeps its name, code and the start of its message', async () => {
    const error = await rejection(pool.run('failLong', 5000, 'E_LONG'));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.name).toBe('RangeError');
    expect(error.cause.code).toBe('E_LONG');
    expect(error.cause.message).toMatch(/^m+…$/);
    expect(error.cause.message.length).toBeLessThan(5000);
    expect(await pool.run('add', 1, 1)).toBe(2);
  });

  it('a result too large to cross fails its call with PayloadTooLargeError, whatever its stack', async () => {
    const error = await rejection(pool.run('bytes', 4096));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.code).toBe('VISCOSE_PAYLOAD_TOO_LARGE');
    expect(await pool.run('add', 2, 2)).toBe(4);
  });

  it('in a batch, the error still names its call', async () => {
    const error = await rejection(pool.runBatch('failLong', [[5000, 'E_LONG']]));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.message).toContain('batch index 0');
    expect(error.cause.code).toBe('E_LONG');
  });
});

describe('in a settled batch', () => {
  it('each call keeps its own error, the oversized one cut down', async () => {
    await using pool = await ThreadPool.create({ module: tasks, threads: 1, maxPayloadBytes: 1024 });
    const settled = await pool.runBatchSettled('failLong', [
      [5000, 'E_1'],
      [5, 'E_2'],
    ]);
    expect(settled.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    const reasons = settled.map((outcome) => (outcome as PromiseRejectedResult).reason);
    expect(reasons.map((reason) => reason.cause.code)).toEqual(['E_1', 'E_2']);
    expect(reasons.map((reason) => reason.cause.message)).toEqual([expect.stringMatching(/^m+…$/), 'mmmmm']);
  });
});

describe('in a scope', () => {
  it("a spawned task's oversized error fails the scope with that error, cut down", async () => {
    await using pool = await ThreadPool.create({ module: forkjoin, threads: 2, maxPayloadBytes: 512 });
    const error = await rejection(pool.run('scopeFailsLong', 5000));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.cause.message).toMatch(/^x+…$/);
    expect(error.cause.code).toMatch(/^E_XXX/);
    expect(await pool.run('fib', 15)).toBe(610);
  });
});
