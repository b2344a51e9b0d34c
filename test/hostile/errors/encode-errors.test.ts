// Values that cannot be encoded: an EncodeError of bounded size naming where, with what was thrown
// as its cause; nesting has one fixed limit on every runtime.
import { describe, expect, it } from 'vitest';
import { EncodeError, ParallelProcessor, ProcessingError, TaskError, ThreadPool, ViscoseError } from 'viscose';
import type * as Values from '../../fixtures/hostile-values.mjs';
import { rejection } from '../../support/rejection.js';

const module = new URL('../../fixtures/hostile-values.mjs', import.meta.url);

function nested(levels: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < levels; i++) value = { o: value };
  return value;
}

const thrown = new RangeError('no reading today');
const withGetter = () => ({
  a: {
    get b(): never {
      throw thrown;
    },
  },
});
const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return [1, { p: proxy }];
};

describe('nesting', () => {
  it('1,000 levels cross; 1,001 are refused with a message of bounded size', async () => {
    await using pool = await ThreadPool.create<typeof Values>({ module, threads: 1 });
    expect(await pool.run('echo', nested(1000))).toEqual(nested(1000));
    expect(await pool.runBatch('echo', [[nested(1000)]])).toEqual([nested(1000)]);
    const error = await rejection(pool.run('echo', nested(1001)));
    expect(error).toBeInstanceOf(EncodeError);
    expect((error as Error).message).toContain('nested more than 1000 levels deep');
    expect((error as EncodeError).path).toMatch(/^args\[0\]\.o\.o.*…\(\d+ more\)….*\.o\.o$/);
    expect((error as Error).message.length).toBeLessThan(300);
    const inBatch = await rejection(pool.runBatch('echo', [[1], [nested(1001)]]));
    expect((inBatch as EncodeError).path).toMatch(/^argsList\[1\]\[0\]\.o/);
  });

  it('a long property name is cut short in the path', async () => {
    await using pool = await ThreadPool.create<typeof Values>({ module, threads: 1 });
    const error = await rejection(pool.run('echo', { ['k'.repeat(100_000)]: () => 1 }));
    expect(error).toBeInstanceOf(EncodeError);
    expect((error as Error).message.length).toBeLessThan(300);
  });
});

describe('a throwing getter or a revoked Proxy', () => {
  it('in the arguments of run and runBatch: EncodeError naming it, the thrown error as cause', async () => {
    await using pool = await ThreadPool.create<typeof Values>({ module, threads: 1 });
    const getter = await rejection(pool.run('echo', withGetter()));
    expect(getter).toBeInstanceOf(EncodeError);
    expect(getter).toMatchObject({ path: 'args[0].a.b', cause: thrown });
    const proxy = await rejection(pool.run('echo', revoked()));
    expect(proxy).toBeInstanceOf(EncodeError);
    expect((proxy as EncodeError).path).toBe('args[0][1].p');
    expect((proxy as Error).cause).toBeInstanceOf(TypeError);
    const batch = await rejection(pool.runBatch('echo', [[1], [withGetter()]]));
    expect(batch).toMatchObject({ path: 'argsList[1][0].a.b', cause: thrown });
    expect(await pool.run('echo', 5)).toBe(5);
  });

  it('in a result: the task fails, its cause the EncodeError, whose cause is what was thrown', async () => {
    await using pool = await ThreadPool.create<typeof Values>({ module, threads: 1 });
    for (const [task, path, message] of [
      ['withThrowingGetter', 'result.inner.boom', 'getter refused'],
      ['revokedProxy', 'result.list[1]', 'revoked'],
    ] as const) {
      const error = await rejection(pool.run(task));
      expect(error).toBeInstanceOf(TaskError);
      const cause = (error as Error).cause as Error & { code: string; cause: Error };
      expect(cause).toMatchObject({ name: 'EncodeError', code: 'VISCOSE_UNENCODABLE' });
      expect(cause.message).toMatch(new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')} cannot be sent`));
      expect(cause.cause.message).toContain(message);
    }
  });

  it('in a processor request: ProcessingError with the EncodeError as cause', async () => {
    await using processor = await ParallelProcessor.create<typeof Values, 'echo'>({ module, handler: 'echo', threads: 1 });
    const error = await rejection(processor.process(withGetter()));
    expect(error).toBeInstanceOf(ProcessingError);
    expect(error).toBeInstanceOf(ViscoseError);
    expect((error as Error).cause).toBeInstanceOf(EncodeError);
    expect(((error as Error).cause as Error).cause).toBe(thrown);
  });
});
