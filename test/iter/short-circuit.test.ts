// The terminals that stop early (src/iter/short-circuit.ts) and `product`: the parallel answer is
// the sequential one over random sources, pieces and thread counts, and once the answer is known
// far fewer than all the items are visited.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, range } from 'viscose';
import * as Fixture from '../fixtures/iter.mjs';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

type Predicate = ['isEven'] | ['divisibleBy', number] | ['isSmall', number];
type Op = 'any' | 'all' | 'findAny' | 'findFirst' | 'findLast' | 'positionAny' | 'positionFirst';
interface Plan {
  steps: (['map', 'addTo', number] | ['filter', 'isEven'])[];
  minLen?: number;
  maxLen?: number;
  terminal: [Op, ...Predicate];
}

/** Items in the counting tests: more than a piece's loop runs between two looks at the cell. */
const n = 400_000;

const test = (item: number, [name, argument]: Predicate): boolean =>
  name === 'isEven' ? Fixture.isEven(item) : name === 'divisibleBy' ? Fixture.divisibleBy(item, argument) : Fixture.isSmall(item, argument);

/** The items after the plan's steps, with the index each had in the source. */
function stepped(items: number[], plan: Plan): [number, number][] {
  const out: [number, number][] = [];
  items.forEach((unit, index) => {
    let item = unit;
    for (const [op, , k] of plan.steps) {
      if (op === 'map') item = Fixture.addTo(item, k);
      else if (!Fixture.isEven(item)) return;
    }
    out.push([index, item]);
  });
  return out;
}

/**
 * Checks a parallel answer against the sequential meaning. `findAny` and `positionAny` may give
 * any match, so they are checked to be a match, and to be none only when there is none.
 */
function check(items: number[], plan: Plan, answer: unknown): void {
  const [op, ...predicate] = plan.terminal;
  const all = stepped(items, plan);
  const matches = all.filter(([, item]) => test(item, predicate));
  switch (op) {
    case 'any':
      return void expect(answer).toBe(matches.length > 0);
    case 'all':
      return void expect(answer).toBe(matches.length === all.length);
    case 'findFirst':
      return void expect(answer).toBe(matches[0]?.[1]);
    case 'findLast':
      return void expect(answer).toBe(matches.at(-1)?.[1]);
    case 'positionFirst':
      return void expect(answer).toBe(matches[0]?.[0] ?? -1);
    case 'findAny':
      if (matches.length === 0) return void expect(answer).toBeUndefined();
      return void expect(matches.map(([, item]) => item)).toContain(answer);
    case 'positionAny':
      if (matches.length === 0) return void expect(answer).toBe(-1);
      return void expect(matches.map(([index]) => index)).toContain(answer);
  }
}

const predicate = fc.oneof(
  fc.constant<Predicate>(['isEven']),
  fc.integer({ min: 1, max: 60 }).map<Predicate>((k) => ['divisibleBy', k]),
  fc.integer({ min: 0, max: 1200 }).map<Predicate>((k) => ['isSmall', k]),
);
const op = fc.constantFrom<Op>('any', 'all', 'findAny', 'findFirst', 'findLast', 'positionAny', 'positionFirst');
const step = fc.oneof(
  fc.integer({ min: -5, max: 5 }).map((k) => ['map', 'addTo', k] as ['map', 'addTo', number]),
  fc.constant(['filter', 'isEven'] as ['filter', 'isEven']),
);
const limit = fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined });
const plan: fc.Arbitrary<Plan> = fc
  .record({ steps: fc.array(step, { maxLength: 2 }), minLen: limit, maxLen: limit, op, predicate })
  .map(({ steps, minLen, maxLen, op, predicate }) => ({
    // A position counts the source's items: no filter before it.
    steps: op.startsWith('position') ? steps.filter(([kind]) => kind === 'map') : steps,
    minLen,
    maxLen,
    terminal: [op, ...predicate] as Plan['terminal'],
  }));
// Empty, one item, a few hundred, and lengths around the 1,024 items between two looks at the cell.
const items = fc.oneof(
  fc.array(fc.integer({ min: -2000, max: 2000 }), { maxLength: 2 }),
  fc.array(fc.integer({ min: -2000, max: 2000 }), { maxLength: 300 }),
  fc.array(fc.integer({ min: -2000, max: 2000 }), { minLength: 1000, maxLength: 3100 }),
);
const kind = fc.constantFrom('array', 'float64', 'shared');

function sourceOf(kind: string, values: number[]): ArrayLike<number> {
  if (kind === 'array') return values;
  const array = kind === 'shared' ? new Float64Array(new SharedArrayBuffer(8 * values.length)) : new Float64Array(values.length);
  array.set(values);
  return array;
}

describe.each([1, 2, 4])('terminals that stop early, on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('give the sequential answer from the main thread', async () => {
    await fc.assert(
      fc.asyncProperty(kind, items, plan, async (k, values, p) => {
        check(values, p, await Fixture.applyPlan(pool.parIter(sourceOf(k, values)), p, (name: string) => name));
      }),
      { numRuns: 120 },
    );
  });

  it('give the sequential answer from inside a task', async () => {
    await fc.assert(
      fc.asyncProperty(kind, items, plan, async (k, values, p) => {
        check(values, p, await pool.run('planInside', sourceOf(k, values), p));
      }),
      { numRuns: 120 },
    );
  });

  it('multiply in a tree order to the product of a loop, when it is exact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(-1, 1, 2, 0.5), { maxLength: 60 }), async (values) => {
        const expected = values.reduce<number>((a, b) => a * b, 1);
        expect(await pool.parIter(values).minLen(0).maxLen(3).product()).toBe(expected);
        expect(await pool.run('planInside', values, { steps: [], terminal: ['product'] })).toBe(expected);
      }),
      { numRuns: 60 },
    );
  });
});

// On one thread the pieces run one after another, so the count is exact: the first piece stops at
// the match and every later one is skipped. On two, whoever runs the root runs its first quarter
// (its last, for findLast) itself, stops there at the match, and nobody visits the rest of that
// quarter, whatever the other worker did meanwhile: at most 3/4 of the items, however the two are
// scheduled.
describe.each([
  [1, (visited: number) => expect(visited).toBe(11)],
  [2, (visited: number) => expect(visited).toBeLessThan(0.8 * n)],
])('once the answer is known, on %i threads', (threads, bounded) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  /** Runs `op` with a predicate that counts the items it sees; returns the answer and the count. */
  async function visiting(op: Op, target: number, predicate = 'visitIsTarget'): Promise<[unknown, number]> {
    const counts = new Int32Array(new SharedArrayBuffer(4 * n));
    const answer = await (pool.parIter(range(0, n)) as any)[op](predicate, counts, target);
    return [answer, counts.reduce((sum, count) => sum + count, 0)];
  }

  it.each([
    ['any', 10, true],
    ['findAny', 10, 10],
    ['findFirst', 10, 10],
    ['positionAny', 10, 10],
    ['positionFirst', 10, 10],
    // Walked from the right: n - 11 is the 11th item from the end.
    ['findLast', n - 11, n - 11],
  ] as const)('%s stops at the match', async (op, target, expected) => {
    const [answer, visited] = await visiting(op, target);
    expect(answer).toBe(expected);
    bounded(visited);
  });

  it('all stops at a counterexample', async () => {
    const [answer, visited] = await visiting('all', 10, 'visitIsNotTarget');
    expect(answer).toBe(false);
    bounded(visited);
  });

  it('visits every item when nothing matches, and says so', async () => {
    const [found, visited] = await visiting('findFirst', -1);
    expect(found).toBeUndefined();
    expect(visited).toBe(n);
    expect((await visiting('positionFirst', -1))[0]).toBe(-1);
    expect((await visiting('all', -1, 'visitIsNotTarget'))[0]).toBe(true);
  });
});

describe('limits and checks', () => {
  it('accept minLen(0) and maxLen(0) as Rayon does, and refuse a position after a filter', async () => {
    await using pool = await ThreadPool.create<typeof Fixture>({ module, threads: 2 });
    expect(await pool.parIter(range(0, 1000)).minLen(0).sum()).toBe(499_500);
    // maxLen(0) splits down to single items, as with_max_len(0) does.
    expect(await pool.parIter(range(0, 200)).maxLen(0).sum()).toBe(19_900);
    expect(() => pool.parIter(range(0, 3)).minLen(-1)).toThrow(RangeError);
    expect(() => pool.parIter(range(0, 3)).maxLen(1.5)).toThrow(RangeError);
    await expect(pool.parIter(range(0, 10)).filter('isEven').positionFirst('isEven')).rejects.toThrow(/cannot follow a filter/);
  });
});

// tryForEach and tryReduce stop like the finds once a task throws; the error is the terminal's.
describe.each([
  [1, (visited: number) => expect(visited).toBe(11)],
  [2, (visited: number) => expect(visited).toBeLessThan(0.8 * n)],
])('once a task throws, on %i threads', (threads, bounded) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('tryForEach stops and rejects with the error', async () => {
    const counts = new Int32Array(new SharedArrayBuffer(4 * n));
    await expect(pool.parIter(range(0, n)).tryForEach('visitOrThrow', counts, 10)).rejects.toMatchObject({
      cause: { name: 'RangeError', message: 'bad item 10' },
    });
    bounded(counts.reduce((sum, count) => sum + count, 0));
  });

  it('tryForEach visits everything when nothing throws', async () => {
    const counts = new Int32Array(new SharedArrayBuffer(4 * n));
    expect(await pool.parIter(range(0, n)).tryForEach('visitOrThrow', counts, -1)).toBeUndefined();
    expect(counts.every((count) => count === 1)).toBe(true);
  });

  it('tryReduce rejects with the error, and folds as reduce does when nothing throws', async () => {
    const values = Array.from({ length: 10_000 }, (_, i) => i);
    expect(await pool.parIter(values).tryReduce('addNonNegative', 0)).toBe(49_995_000);
    values[7_000] = -1;
    await expect(pool.parIter(values).tryReduce('addNonNegative', 0)).rejects.toMatchObject({ cause: { message: 'negative item -1' } });
    expect(await pool.run('planInside', values.slice(0, 7_000), { steps: [], terminal: ['tryReduce', 'addNonNegative', 0] })).toBe(
      24_496_500,
    );
  });
});
