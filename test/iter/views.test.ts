// skip, take, stepBy and rev (src/iter/view.ts), zip and chain: any mix of them with maps, an
// enumerate before or after them, and a filter after them, gives what the same operations on an array give, over
// random sources, chunks, split limits and thread counts, from the main thread and in a task. The
// other side of a zip or chain is a source or an iterator with steps and views of its own.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, range } from 'viscose';
import * as Fixture from '../fixtures/iter.mjs';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

type View = ['skip', number] | ['take', number] | ['stepBy', number] | ['rev'];
type Partner = number[] | { kind: 'range'; start: number; end: number };
/** What the other side of a zip or chain does to its own items. */
type PartnerStep = View | ['map', 'addTo', number] | ['filter', 'isEven'] | ['enumerate'];
type Step =
  | View
  | ['chain', Partner]
  | ['chain', Partner, PartnerStep[]]
  | ['map', 'addTo', number]
  | ['map', 'sumOf']
  | ['enumerate']
  | ['zip', Partner]
  | ['zip', Partner, PartnerStep[]]
  | ['filter', 'isEven'];
interface Plan {
  chunks?: number;
  steps: Step[];
  maxLen?: number;
  terminal: ['collect'] | ['count'] | ['sum'] | ['positionFirst', 'isEven'] | ['findLast', 'isEven'];
}

const itemsOf = (partner: Partner) =>
  Array.isArray(partner) ? partner : Array.from({ length: partner.end - partner.start }, (_, i) => partner.start + i);

/** Steps on an array, one by one. */
function applied(items: unknown[], steps: readonly (Step | PartnerStep)[]): unknown[] {
  let seq = items;
  for (const step of steps) {
    const other = () => applied(itemsOf(step[1] as Partner), (step[2] ?? []) as PartnerStep[]);
    if (step[0] === 'chain') seq = seq.concat(other());
    else if (step[0] === 'skip') seq = seq.slice(step[1]);
    else if (step[0] === 'take') seq = seq.slice(0, step[1]);
    else if (step[0] === 'stepBy') seq = seq.filter((_, i) => i % (step[1] as number) === 0);
    else if (step[0] === 'rev') seq = seq.toReversed();
    else if (step[0] === 'map') seq = seq.map((x) => (step[1] === 'sumOf' ? Fixture.sumOf(x as number[]) : Fixture.addTo(x, step[2])));
    else if (step[0] === 'enumerate') seq = seq.map((x, i) => [i, x]);
    else if (step[0] === 'zip') {
      const partner = other();
      seq = seq.slice(0, partner.length).map((x, i) => [x, partner[i]]);
    } else seq = seq.filter((x) => Fixture.isEven(x));
  }
  return seq;
}

/** The plan on an array, step by step. */
function sequential(items: number[], plan: Plan): unknown {
  const units: unknown[] = plan.chunks
    ? Array.from({ length: Math.ceil(items.length / plan.chunks) }, (_, i) => items.slice(i * plan.chunks!, (i + 1) * plan.chunks!))
    : items;
  const seq = applied(units, plan.steps);
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
const partner = fc.oneof(
  fc.array(fc.integer({ min: -9, max: 9 }), { maxLength: 300 }),
  fc.integer({ min: 0, max: 300 }).map((length) => range(-5, length - 5)),
);
/** The other side's own steps: views and maps, and what `last` gives (nothing, or one step) after them. */
const partnerSteps = (last: fc.Arbitrary<PartnerStep[]>) =>
  fc
    .tuple(
      fc.array(
        fc.oneof(
          view,
          fc.integer({ min: -3, max: 3 }).map((k): PartnerStep => ['map', 'addTo', k]),
        ),
        { maxLength: 3 },
      ),
      last,
    )
    .map(([steps, end]) => [...steps, ...end]);
// A chain's other side may end with a filter (then nothing after the chain needs indices), a
// zip's may number its items.
const chainSteps = partnerSteps(fc.constantFrom<PartnerStep[]>([], [['filter', 'isEven']]));
const zipSteps = partnerSteps(fc.constantFrom<PartnerStep[]>([], [['enumerate']]));
const chain = fc.oneof(
  partner.map((other): Step => ['chain', other]),
  fc.tuple(partner, chainSteps).map(([other, steps]): Step => ['chain', other, steps]),
);

const plan: fc.Arbitrary<Plan> = fc
  .record({
    chunks: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
    // Other iterators chained to the first (then no chunks), before its own steps or after them.
    chained: fc.array(chain, { maxLength: 2 }),
    chainAfterSteps: fc.boolean(),
    before,
    // Pairs: numbered by enumerate, or zipped with a source or an iterator, or neither.
    pairing: fc.oneof(
      fc.constant(undefined),
      fc.constant<Step>(['enumerate']),
      partner.map((other): Step => ['zip', other]),
      fc.tuple(partner, zipSteps).map(([other, steps]): Step => ['zip', other, steps]),
    ),
    after: fc.array(view, { maxLength: 3 }),
    filter: fc.boolean(),
    maxLen: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    terminal: fc.constantFrom<Plan['terminal']>(['collect'], ['count'], ['sum'], ['positionFirst', 'isEven'], ['findLast', 'isEven']),
  })
  .map(({ chunks: chunked, chained, chainAfterSteps, before, pairing, after, filter, maxLen, terminal }): Plan => {
    const chunks = chained.length > 0 ? undefined : chunked;
    // A chunk is summed to a number first; pairs can only be collected or counted; no position after a filter.
    const chunkStep: Step[] = chunks ? [['map', 'sumOf']] : [];
    // A chain whose other side filters has no indices any more: no view, zip or position after it.
    const filtered = chained.some((step) => ((step[2] ?? []) as PartnerStep[]).some(([op]) => op === 'filter'));
    const head: Step[] = chainAfterSteps || filtered ? [...chunkStep, ...before, ...chained] : [...chained, ...chunkStep, ...before];
    const steps: Step[] = [...head, ...(pairing && !filtered ? [pairing] : []), ...(filtered ? [] : after)];
    const pairs = pairing !== undefined && !filtered;
    const finalTerminal = pairs ? (terminal[0] === 'count' ? terminal : (['collect'] as Plan['terminal'])) : terminal;
    const terminalFits = filtered && finalTerminal[0] === 'positionFirst' ? (['count'] as Plan['terminal']) : finalTerminal;
    const canFilter = !pairs && filter && terminalFits[0] !== 'positionFirst';
    return { chunks, steps: canFilter ? [...steps, ['filter', 'isEven']] : steps, maxLen, terminal: terminalFits };
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
        const iterate = (other: unknown) => pool.parIter(other as number[]);
        expect(await Fixture.applyPlan(pool.parIter(source), p, (name: string) => name, iterate as never)).toEqual(expected);
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
    expect(() =>
      pool
        .parIter(range(0, 9))
        .chunks(3)
        .chain([1] as never),
    ).toThrow(/cannot take an iterator over chunks/);
    expect(() => pool.parIter(range(0, 9)).fold(0, 'add').chain([1])).toThrow(/cannot take an iterator with a fold or flatMap/);
    expect(() => pool.parIter(range(0, 9)).zip(pool.parIter([1, 2]).filter('isEven'))).toThrow(/zip\(\) needs its partner's indices/);
    // Another pool's iterator is refused: its task ids are ids of that pool's module.
    await using other = await ThreadPool.create<typeof Fixture>({ module, threads: 1 });
    expect(() => pool.parIter(range(0, 9)).zip(other.parIter([1, 2]))).toThrow(/made by another pool/);
    expect(() => pool.parIter(range(0, 9)).chain(other.parIter([1, 2]))).toThrow(/made by another pool/);
    expect(() =>
      pool
        .parIter(range(0, 9))
        .chain(pool.parIter([1]).filter('isEven'))
        .skip(1),
    ).toThrow(/cannot follow a filter/);
    expect(() => pool.parIter(range(0, 9)).chain([1]).chunks(2)).toThrow(/chained/);
  });
});
