// skip, take, stepBy and rev (src/iter/view.ts), zip and chain: any mix of them with maps, an
// enumerate before or after them, and a filter after them, gives what the same operations on an array give, over
// random sources, chunks, split limits and thread counts, from the main thread and in a task.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, range } from 'viscose';
import * as Fixture from '../fixtures/iter.mjs';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

type View = ['skip', number] | ['take', number] | ['stepBy', number] | ['rev'];
type Partner = number[] | { kind: 'range'; start: number; end: number };
type Step =
  | View
  | ['chain', Partner]
  | ['map', 'addTo', number]
  | ['map', 'sumOf']
  | ['enumerate']
  | ['zip', Partner]
  | ['filter', 'isEven'];
interface Plan {
  chunks?: number;
  steps: Step[];
  maxLen?: number;
  terminal: ['collect'] | ['count'] | ['sum'] | ['positionFirst', 'isEven'] | ['findLast', 'isEven'];
}

/** The plan on an array, step by step. */
function sequential(items: number[], plan: Plan): unknown {
  let seq: unknown[] = plan.chunks
    ? Array.from({ length: Math.ceil(items.length / plan.chunks) }, (_, i) => items.slice(i * plan.chunks!, (i + 1) * plan.chunks!))
    : items;
  const itemsOf = (partner: Partner) =>
    Array.isArray(partner) ? partner : Array.from({ length: partner.end - partner.start }, (_, i) => partner.start + i);
  for (const step of plan.steps) {
    if (step[0] === 'chain') seq = seq.concat(itemsOf(step[1]));
    else if (step[0] === 'skip') seq = seq.slice(step[1]);
    else if (step[0] === 'take') seq = seq.slice(0, step[1]);
    else if (step[0] === 'stepBy') seq = seq.filter((_, i) => i % (step[1] as number) === 0);
    else if (step[0] === 'rev') seq = seq.toReversed();
    else if (step[0] === 'map') seq = seq.map((x) => (step[1] === 'sumOf' ? Fixture.sumOf(x as number[]) : Fixture.addTo(x, step[2])));
    else if (step[0] === 'enumerate') seq = seq.map((x, i) => [i, x]);
    else if (step[0] === 'zip') {
      const items = itemsOf(step[1]);
      seq = seq.slice(0, items.length).map((x, i) => [x, items[i]]);
    } else seq = seq.filter((x) => Fixture.isEven(x));
  }
  switch (plan.terminal[0]) {
    case 'collect':
      return seq;
    case 'count':
      return seq.length;
    case 'sum':
      return (seq as number[]).reduce((a, b) => a + b, 0);
    case 'positionFirst':
      return seq.findIndex((x) => Fixture.isEven(x));
    case 'findLast':
      return seq.findLast((x) => Fixture.isEven(x));
  }
}

const view = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map((n): View => ['skip', n]),
  fc.integer({ min: 0, max: 400 }).map((n): View => ['take', n]),
  fc.integer({ min: 1, max: 5 }).map((n): View => ['stepBy', n]),
  fc.constant<View>(['rev']),
);
const before = fc.array(
  fc.oneof(
    view,
    fc.integer({ min: -3, max: 3 }).map((k): Step => ['map', 'addTo', k]),
  ),
  { maxLength: 4 },
);
const plan: fc.Arbitrary<Plan> = fc
  .record({
    chunks: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
    // Sources chained to the first (then no chunks): arrays or ranges.
    chained: fc.array(
      fc.oneof(
        fc.array(fc.integer({ min: -9, max: 9 }), { maxLength: 200 }).map((other): Step => ['chain', other]),
        fc.integer({ min: 0, max: 200 }).map((length): Step => ['chain', range(3, 3 + length)]),
      ),
      { maxLength: 2 },
    ),
    before,
    // Pairs: numbered by enumerate, or zipped with an array or a range, or neither.
    pairing: fc.oneof(
      fc.constant(undefined),
      fc.constant<Step>(['enumerate']),
      fc.array(fc.integer({ min: -9, max: 9 }), { maxLength: 300 }).map((partner): Step => ['zip', partner]),
      fc.integer({ min: 0, max: 300 }).map((length): Step => ['zip', range(-5, length - 5)]),
    ),
    after: fc.array(view, { maxLength: 3 }),
    filter: fc.boolean(),
    maxLen: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    terminal: fc.constantFrom<Plan['terminal']>(['collect'], ['count'], ['sum'], ['positionFirst', 'isEven'], ['findLast', 'isEven']),
  })
  .map(({ chunks: chunked, chained, before, pairing, after, filter, maxLen, terminal }): Plan => {
    const chunks = chained.length > 0 ? undefined : chunked;
    // A chunk is summed to a number first; pairs can only be collected or counted; no position after a filter.
    const chunkStep: Step[] = chunks ? [['map', 'sumOf']] : [];
    const steps: Step[] = [...chained, ...chunkStep, ...before, ...(pairing ? [pairing] : []), ...after];
    const pairs = pairing !== undefined;
    const finalTerminal = pairs ? (terminal[0] === 'count' ? terminal : (['collect'] as Plan['terminal'])) : terminal;
    const canFilter = !pairs && filter && finalTerminal[0] !== 'positionFirst';
    return { chunks, steps: canFilter ? [...steps, ['filter', 'isEven']] : steps, maxLen, terminal: finalTerminal };
  });

const items = fc.oneof(
  fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 3 }),
  fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 400 }),
);

describe.each([1, 2, 4])('views on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('give what the same operations give on an array', async () => {
    await fc.assert(
      fc.asyncProperty(items, plan, fc.constantFrom('array', 'shared'), async (values, p, kind) => {
        const source = kind === 'array' ? values : Float64Array.from(values);
        const expected = sequential(values, p);
        expect(await Fixture.applyPlan(pool.parIter(source), p, (name: string) => name)).toEqual(expected);
        expect(await pool.run('planInside', source, p)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('reverse a range and index it from its end', async () => {
    expect(await pool.parIter(range(0, 10)).rev().enumerate().skip(2).take(3).collect()).toEqual([
      [2, 7],
      [3, 6],
      [4, 5],
    ]);
    expect(await pool.parIter(range(0, 1_000_000)).stepBy(1000).rev().take(2).collect()).toEqual([999_000, 998_000]);
  });
});

describe('views', () => {
  it('need the items indices, and counts that are counts', async () => {
    await using pool = await ThreadPool.create<typeof Fixture>({ module, threads: 1 });
    expect(() => pool.parIter(range(0, 9)).filter('isEven').skip(1)).toThrow(/cannot follow a filter/);
    expect(() => pool.parIter(range(0, 9)).stepBy(0)).toThrow(RangeError);
    expect(() => pool.parIter(range(0, 9)).take(-1)).toThrow(RangeError);
    expect(() => pool.parIter(range(0, 9)).skip(1).chunks(2)).toThrow(/call it first/);
    expect(() => pool.parIter(range(0, 9)).map('square').chain([1])).toThrow(/call it first/);
    expect(() => pool.parIter(range(0, 9)).chain([1]).chunks(2)).toThrow(/chained/);
  });
});
