// Plain functions as iterator steps: what is refused before anything runs (and why, by name), what
// a self-contained function may use, every place a step or terminal takes one, and that each
// worker compiles a pipeline shape's loop once however often it runs.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InlineStepError, ThreadPool, range } from 'viscose';
import * as Fixture from '../fixtures/iter.mjs';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

describe('inline steps', () => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads: 2 });
  });
  afterAll(() => pool.close());

  /** What refusing `step` as a map throws, synchronously, before anything is queued. */
  function refusal(step: (...args: never[]) => unknown): InlineStepError {
    try {
      pool.parIter(range(0, 10)).map(step as (x: number) => number);
    } catch (error) {
      return error as InlineStepError;
    }
    throw new Error('the step was accepted');
  }

  it('refuse a function that reads variables it does not define, naming each one', () => {
    const min = 3;
    const scale = 2;
    const error = refusal((x: number) => (x > min ? x * scale : Math.abs(min)));
    expect(error).toBeInstanceOf(InlineStepError);
    expect(error.code).toBe('VISCOSE_INLINE_STEP');
    expect(error.message).toMatch(
      /^map: an anonymous function cannot run on a worker from its source: it refers to `min`, `scale`, which are not defined/,
    );
    expect(error.message).toMatch(/pass them as extra arguments after the function/);
    expect(error.message).not.toMatch(/`Math`/);
    expect(refusal((x: number) => x + min).message).toMatch(
      /it refers to `min`, which is not defined on the worker: pass it as an extra argument/,
    );
  });

  it('refuse host globals and globalThis, which differ from thread to thread', () => {
    expect(refusal((x: number) => x + process.pid).message).toMatch(/`process`/);
    expect(refusal((x: number) => (globalThis as any).k + x).message).toMatch(/`globalThis`/);
    // biome-ignore lint/security/noGlobalEval: that eval is refused is what is tested.
    expect(refusal((x: number) => eval(String(x))).message).toMatch(/`eval`/);
  });

  it('refuse this, async, generator, native, bound functions and classes, saying why', () => {
    class Scaler {
      k = 2;
      scale(x: number) {
        return this.k * x;
      }
    }
    expect(refusal(Scaler.prototype.scale).message).toMatch(/function scale cannot .*it uses `this`/);
    expect(refusal(async (x: number) => x).message).toMatch(/it is async/);
    expect(
      refusal(function* (x: number) {
        yield x;
      }).message,
    ).toMatch(/it is a generator function/);
    expect(refusal(Math.sqrt).message).toMatch(/function sqrt cannot .*it is a built-in function.*\(x\) => Math\.sqrt\(x\)/);
    expect(refusal(((x: number) => x).bind(null)).message).toMatch(/it is a bound function/);
    expect(refusal(Scaler as never).message).toMatch(/it is a class/);
    expect(
      refusal(function (this: { k: number }, x: number) {
        return this.k + x;
      }).message,
    ).toMatch(/it uses `this`/);
  });

  it('accept what a self-contained function may use: its parameters, locals, standard globals, nested functions', async () => {
    const items = [1, 4, 9, 16];
    expect(
      await pool
        .parIter(items)
        .map((x: number) => Math.sqrt(x))
        .collect(),
    ).toEqual([1, 2, 3, 4]);
    expect(
      await pool
        .parIter(items)
        .filter((x: number, min: number) => x > min, 5)
        .collect(),
    ).toEqual([9, 16]);
    // A named function expression calls itself; a nested ordinary function has its own `this`.
    const factorial = function fact(n: number): number {
      return n <= 1 ? 1 : n * fact(n - 1);
    };
    expect(await pool.parIter(range(0, 6)).map(factorial).collect()).toEqual([1, 1, 2, 6, 24, 120]);
    const withOwnThis = (x: number) => {
      const box = {
        v: x,
        get() {
          return this.v;
        },
      };
      return box.get();
    };
    expect(await pool.parIter(items).map(withOwnThis).collect()).toEqual(items);
    // Destructuring, defaults and a method written as `name(x) { ... }`.
    const shorthand = {
      twice(x: number) {
        return 2 * x;
      },
    };
    expect(
      await pool
        .parIter([
          [1, 2],
          [3, 4],
        ] as [number, number][])
        .map(([a, b]: [number, number], k = 10) => a * k + b)
        .collect(),
    ).toEqual([12, 34]);
    expect(await pool.parIter(items).map(shorthand.twice).collect()).toEqual([2, 8, 18, 32]);
  });

  it('take a plain function wherever a step or a terminal takes a task', async () => {
    const source = range(0, 2000);
    const numbers = Array.from({ length: 2000 }, (_, i) => i);
    expect(await pool.parIter(source).reduce((a: number, b: number) => a + b, 0)).toBe(1999000);
    expect(await pool.parIter(source).reduceWith((a: number, b: number) => Math.max(a, b))).toBe(1999);
    expect(await pool.parIter(source).tryReduce((a: number, b: number) => a + b, 0)).toBe(1999000);
    expect(
      await pool
        .parIter(source)
        .filterMap((x: number) => (x % 500 === 0 ? x / 500 : undefined))
        .collect(),
    ).toEqual([0, 1, 2, 3]);
    expect(
      await pool
        .parIter(range(0, 4))
        .flatMap((x: number) => Array.from({ length: x }, () => x))
        .collect(),
    ).toEqual([1, 2, 2, 3, 3, 3]);
    expect(
      await pool
        .parIter(source)
        .fold(0, (acc: number, x: number) => acc + x)
        .sum(),
    ).toBe(1999000);
    expect(
      await pool
        .parIter(range(0, 5))
        .mapInit(
          () => ({ scale: 3 }),
          (state: { scale: number }, x: number) => state.scale * x,
        )
        .collect(),
    ).toEqual([0, 3, 6, 9, 12]);
    expect(await pool.parIter(source).any((x: number, k: number) => x === k, 1234)).toBe(true);
    expect(await pool.parIter(source).all((x: number) => x >= 0)).toBe(true);
    expect(await pool.parIter(source).findFirst((x: number) => x % 7 === 6)).toBe(6);
    expect(await pool.parIter(source).findLast((x: number) => x % 7 === 6)).toBe(1994);
    expect(await pool.parIter(source).positionFirst((x: number) => x > 100)).toBe(101);
    expect(await pool.parIter(source).minBy((a: number, b: number) => (a % 10) - (b % 10))).toBe(0);
    expect(await pool.parIter(source).maxByKey((x: number) => x % 10)).toBe(1999);
    expect(
      await pool
        .parIter(numbers)
        .partition((x: number) => x < 3)
        .then(([low]) => low),
    ).toEqual([0, 1, 2]);
    const counter = new Int32Array(new SharedArrayBuffer(4));
    await pool.parIter(source).forEach((_x: number, c: Int32Array) => {
      Atomics.add(c, 0, 1);
    }, counter);
    expect(counter[0]).toBe(2000);
    await expect(
      pool.parIter(source).tryForEach((x: number) => {
        if (x === 77) throw new RangeError('seventy-seven');
      }),
    ).rejects.toMatchObject({ cause: { name: 'RangeError', message: 'seventy-seven' } });
  });

  it('mix inline steps and named tasks in one pipeline', async () => {
    expect(
      await pool
        .parIter(range(0, 100))
        .map('square')
        .filter((x: number) => x % 2 === 1)
        .map('addTo', 1)
        .sum(),
    ).toBe(Array.from({ length: 50 }, (_, i) => (2 * i + 1) ** 2 + 1).reduce((a, b) => a + b, 0));
  });

  it('report an inline step that throws on the worker as the task error it is', async () => {
    const failing = pool
      .parIter(range(0, 100))
      .map((x: number) => {
        if (x === 42) throw new TypeError(`no ${x}`);
        return x;
      })
      .sum();
    await expect(failing).rejects.toMatchObject({ name: 'TaskError', cause: { name: 'TypeError', message: 'no 42' } });
  });

  it('compile a shape once per worker, for every pipeline that has it, and again for another function', async () => {
    const compiled = async () => (await pool.snapshot()).reduce((total, worker) => total + worker.loopsCompiled, 0);
    const step = (x: number, k: number) => x * 3 + k;
    const before = await compiled();
    // Two pipelines of one shape (a range source, the same step), each with its own range and extra argument.
    for (let k = 0; k < 30; k++) {
      const [lo, hi] = k % 2 === 0 ? [0, 50_000] : [7, 40_007];
      const expected = (3 * ((hi - lo) * (lo + hi - 1))) / 2 + (hi - lo) * k;
      expect(await pool.parIter(range(lo, hi)).map(step, k).sum()).toBe(expected);
    }
    const afterOne = await compiled();
    // At most one loop per worker for the shape, whichever pipeline and extra argument.
    expect(afterOne - before).toBeGreaterThanOrEqual(1);
    expect(afterOne - before).toBeLessThanOrEqual(pool.threads);
    for (let k = 0; k < 30; k++)
      await pool
        .parIter(range(0, 50_000))
        .map((x: number) => x * 5)
        .sum();
    const afterTwo = await compiled();
    expect(afterTwo - afterOne).toBeGreaterThanOrEqual(1);
    expect(afterTwo - afterOne).toBeLessThanOrEqual(pool.threads);
  });
});

type Terminal = 'sum' | 'collect' | 'count' | 'findFirst' | 'any' | 'reduce';

/** The terminal on a chain whose steps are the fixture's functions themselves (inline) or their names. */
function finish(chain: any, terminal: Terminal, inline: boolean): Promise<unknown> {
  if (terminal === 'findFirst' || terminal === 'any') return chain[terminal](inline ? Fixture.isEven : 'isEven');
  if (terminal === 'reduce') return chain.reduce(inline ? Fixture.add : 'add', 0);
  return chain[terminal]();
}

/** The same over an array, one item after another. */
function sequential(items: number[], divisor: number, terminal: Terminal): unknown {
  const kept = items.map((x) => x * x).filter((x) => x % divisor === 0);
  if (terminal === 'collect') return kept;
  if (terminal === 'count') return kept.length;
  if (terminal === 'findFirst') return kept.find((x) => x % 2 === 0);
  if (terminal === 'any') return kept.some((x) => x % 2 === 0);
  return kept.reduce((a, b) => a + b, 0);
}

// Empty sources, one item, and lengths around the 1,024-item interval of a piece's checks.
const values = fc.oneof(
  fc.array(fc.integer({ min: -300, max: 300 }), { maxLength: 2 }),
  fc.array(fc.integer({ min: -300, max: 300 }), { minLength: 1000, maxLength: 2100 }),
);

describe.each([1, 2, 4])('inline steps against named ones, on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('give what the same tasks by name give, and what a loop gives', async () => {
    await fc.assert(
      fc.asyncProperty(
        values,
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom<Terminal>('sum', 'collect', 'count', 'findFirst', 'any', 'reduce'),
        fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
        async (items, divisor, terminal, maxLen) => {
          const start = (inline: boolean) => {
            const chain = (maxLen === undefined ? pool.parIter(items) : pool.parIter(items).maxLen(maxLen)) as any;
            return inline
              ? chain.map(Fixture.square).filter(Fixture.divisibleBy, divisor)
              : chain.map('square').filter('divisibleBy', divisor);
          };
          const byName = await finish(start(false), terminal, false);
          expect(await finish(start(true), terminal, true)).toEqual(byName);
          expect(byName).toEqual(sequential(items, divisor, terminal));
        },
      ),
      { numRuns: 60 },
    );
  });
});
