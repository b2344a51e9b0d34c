// filterMap and inspect, the consumers that give an item or nothing (minBy, maxBy, minByKey,
// maxByKey, reduceWith) and those that gather (partition, unzip, collect into a Map or a Set): the
// parallel answer is the sequential one over random sources, pieces and thread counts, ties
// included (minBy and minByKey keep the first of equals, maxBy and maxByKey the last, as Rayon's
// do).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, range } from 'viscose';
import * as Fixture from '../fixtures/iter.mjs';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

type Consumer = 'minBy' | 'maxBy' | 'minByKey' | 'maxByKey';
type Pair = [number, number];

/** The sequential meaning of `consumer` over [index, value] pairs. */
function sequential(pairs: Pair[], consumer: Consumer): Pair | undefined {
  let best: Pair | undefined;
  for (const pair of pairs) {
    if (best === undefined) best = pair;
    else if (consumer.startsWith('min') ? pair[1] < best[1] : pair[1] >= best[1]) best = pair;
  }
  return best;
}

// Few distinct values, so that ties are common.
const values = fc.oneof(
  fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 2 }),
  fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 300 }),
  fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1000, maxLength: 2100 }),
);
const consumer = fc.constantFrom<Consumer>('minBy', 'maxBy', 'minByKey', 'maxByKey');
const limit = fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined });

/** The plan `applyPlan` runs: enumerate, then the consumer with its compare or key task. */
function planOf(consumer: Consumer, minLen?: number, maxLen?: number) {
  const task = consumer.endsWith('Key') ? 'secondOf' : 'compareSecond';
  return { steps: [['enumerate']], minLen, maxLen, terminal: [consumer, task] };
}

describe.each([1, 2, 4])('items or nothing, on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('minBy, maxBy, minByKey and maxByKey keep the item a loop keeps, ties included', async () => {
    await fc.assert(
      fc.asyncProperty(values, consumer, limit, limit, async (items, c, minLen, maxLen) => {
        const pairs = items.map((value, index): Pair => [index, value]);
        const plan = planOf(c, minLen, maxLen);
        expect(await Fixture.applyPlan(pool.parIter(items), plan, (name: string) => name)).toEqual(sequential(pairs, c));
        expect(await pool.run('planInside', items, plan)).toEqual(sequential(pairs, c));
      }),
      { numRuns: 100 },
    );
  });

  it('reduceWith folds without an identity, and gives undefined over nothing', async () => {
    await fc.assert(
      fc.asyncProperty(values, limit, async (items, maxLen) => {
        const expected = items.length === 0 ? undefined : items.reduce((a, b) => a + b);
        const plan = { steps: [], maxLen, terminal: ['reduceWith', 'add'] };
        expect(
          await pool
            .parIter(items)
            .maxLen(maxLen ?? 0)
            .reduceWith('add'),
        ).toBe(expected);
        expect(await pool.run('planInside', items, plan)).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('filterMap keeps what its task gives, inspect sees every item that passes', async () => {
    await fc.assert(
      fc.asyncProperty(values, limit, async (items, maxLen) => {
        const kept = items.filter((x) => x % 2 === 0).map((x) => x / 2);
        const counter = new Int32Array(new SharedArrayBuffer(4));
        const iterator = pool.parIter(items).filterMap('halfIfEven').inspect('touch', counter);
        expect(await (maxLen === undefined ? iterator : iterator.maxLen(maxLen)).collect()).toEqual(kept);
        expect(Atomics.load(counter, 0)).toBe(kept.length);
        const inside = {
          steps: [
            ['filterMap', 'halfIfEven'],
            ['inspect', 'touch', counter],
          ],
          maxLen,
          terminal: ['collect'],
        };
        expect(await pool.run('planInside', items, inside)).toEqual(kept);
        expect(Atomics.load(counter, 0)).toBe(2 * kept.length);
      }),
      { numRuns: 100 },
    );
  });
});

describe.each([1, 2, 4])('gathering, on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('partition, unzip and collect into a Map or a Set keep the order and rules of a loop', async () => {
    await fc.assert(
      fc.asyncProperty(values, async (items) => {
        const pairs = items.map(Fixture.keyPair) as [number, number][];
        const expected = {
          parts: [items.filter((x) => Fixture.isEven(x)), items.filter((x) => !Fixture.isEven(x))],
          unzipped: [pairs.map(([key]) => key), pairs.map(([, value]) => value)],
          // A later pair of the same key wins, and the key keeps its first place.
          map: new Map(pairs),
          set: new Set(items),
        };
        const main = {
          parts: await pool.parIter(items).partition('isEven'),
          unzipped: await pool.parIter(items).map('keyPair').unzip(),
          map: await pool.parIter(items).map('keyPair').collect(Map),
          set: await pool.parIter(items).collect(Set),
        };
        for (const gathered of [main, await pool.run('gatherInside', items)]) {
          expect(gathered.parts).toEqual(expected.parts);
          expect(gathered.unzipped).toEqual(expected.unzipped);
          expect([...gathered.map]).toEqual([...expected.map]);
          expect([...gathered.set]).toEqual([...expected.set]);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('refuses to collect into anything else', async () => {
    await expect(pool.parIter([1]).collect(Array as never)).rejects.toThrow(/Map or Set/);
  });
});

describe.each([1, 2, 4])('flatMap, on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  const terminal = fc.constantFrom(['collect'], ['sum'], ['count'], ['findFirst', 'isEven'], ['findLast', 'isEven'], ['any', 'isEven']);
  const flat = fc.constantFrom(['flatMap', 'repeated', 4], ['flatMap', 'countFrom']);

  it('gives what Array.prototype.flatMap gives, whatever comes after it', async () => {
    await fc.assert(
      fc.asyncProperty(values, flat, fc.boolean(), terminal, limit, async (items, step, filter, [op, predicate], maxLen) => {
        let expected: number[] = items.flatMap((x) => [...(step[1] === 'repeated' ? Fixture.repeated(x, 4) : Fixture.countFrom(x))]);
        if (filter) expected = expected.filter((x) => Fixture.isEven(x));
        const answer = {
          collect: expected,
          sum: expected.reduce((a, b) => a + b, 0),
          count: expected.length,
          findFirst: expected.find((x) => Fixture.isEven(x)),
          findLast: expected.findLast((x) => Fixture.isEven(x)),
          any: expected.some((x) => Fixture.isEven(x)),
        }[op as string];
        const plan = { steps: [step, ...(filter ? [['filter', 'isEven']] : [])], maxLen, terminal: predicate ? [op, predicate] : [op] };
        expect(await Fixture.applyPlan(pool.parIter(items), plan, (name: string) => name)).toEqual(answer);
        expect(await pool.run('planInside', items, plan)).toEqual(answer);
      }),
      { numRuns: 100 },
    );
  });
});

describe.each([1, 2, 4])('mapInit and forEachInit, on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('give each call its piece state, and the results of a map', async () => {
    await fc.assert(
      fc.asyncProperty(values, fc.integer({ min: -3, max: 3 }), limit, async (items, k, maxLen) => {
        const expected = items.map((x) => x * k);
        const iterator = pool.parIter(items).mapInit('newScratch', 'scaledWith', k);
        expect(await (maxLen === undefined ? iterator : iterator.maxLen(maxLen)).collect()).toEqual(expected);
        expect(await pool.run('scaledInside', items, k)).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it('forEachInit calls the task once per item with its piece state, and resolves with nothing', async () => {
    const n = 5000;
    const target = new Int32Array(new SharedArrayBuffer(4 * n));
    expect(await pool.parIter(range(0, n)).maxLen(64).forEachInit('newScratch', 'writeScaled', target, 3)).toBeUndefined();
    expect(Array.from(target)).toEqual(Array.from({ length: n }, (_, i) => i * 3));
  });
});

describe.each([1, 2, 4])('fold, on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('folds each piece from its own copy of the identity, and the accumulators go on in order', async () => {
    await fc.assert(
      fc.asyncProperty(values, limit, async (items, maxLen) => {
        const iterator = pool.parIter(items).maxLen(maxLen ?? 0);
        // Each accumulator is a list the fold task appends to: a shared identity would repeat items.
        const lists = await iterator.fold([] as number[], 'pushTo').collect();
        expect(lists.flat()).toEqual(items);
        expect((await pool.run('foldInside', items)).flat()).toEqual(items);
        // How many accumulators there are depends on how this run was split: only what they add up to is fixed.
        const total = items.reduce((a, b) => a + b, 0);
        expect(await iterator.fold(0, 'add').sum()).toBe(total);
        const sums = await iterator.fold(0, 'add').collect();
        expect(sums.reduce((a, b) => a + b, 0)).toBe(total);
        // The steps after a fold run on each accumulator: a filter keeps the even ones.
        const even = await iterator.fold(0, 'add').filter('isEven').collect();
        expect(even.every((sum) => Fixture.isEven(sum))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses what needs an index or stops early after it', () => {
    expect(() => pool.parIter([1, 2]).fold(0, 'add').enumerate()).toThrow(/cannot follow a fold/);
    expect(() => pool.parIter([1, 2]).fold(0, 'add').skip(1)).toThrow(/fold/);
    return expect(pool.parIter([1, 2]).fold(0, 'add').any('isEven')).rejects.toThrow(/cannot follow a fold/);
  });
});

describe('items removed', () => {
  it('leave no index for a position or collectInto to use', async () => {
    await using pool = await ThreadPool.create<typeof Fixture>({ module, threads: 2 });
    await expect(pool.parIter([1, 2, 3]).filterMap('halfIfEven').positionAny('isEven')).rejects.toThrow(/filterMap/);
    await expect(pool.parIter([1, 2, 3]).flatMap('repeated', 3).positionFirst('isEven')).rejects.toThrow(/flatMap/);
    expect(() => pool.parIter([1, 2, 3]).flatMap('repeated', 3).rev()).toThrow(/flatMap/);
    const target = new Int32Array(new SharedArrayBuffer(12));
    await expect(pool.parIter([1, 2, 3]).filterMap('halfIfEven').collectInto(target)).rejects.toThrow(/filterMap/);
  });
});
