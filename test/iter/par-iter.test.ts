// Parallel iterators through a real pool: every pipeline, from the main thread and from inside a
// task, gives exactly the sequential result, whatever the source, the steps and the split limits.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, range } from 'viscose';
import * as Fixture from '../fixtures/iter.mjs';

const module = new URL('../fixtures/iter.mjs', import.meta.url);

type Step = ['map' | 'filter', string, ...number[]] | ['enumerate'];
type Terminal = ['collect'] | ['sum'] | ['min'] | ['max'] | ['count'] | ['reduce', 'add', number];
interface Plan {
  chunks?: number;
  steps: Step[];
  minLen?: number;
  maxLen?: number;
  terminal: Terminal;
}
type SourceKind = 'array' | 'range' | 'int32' | 'float64' | 'shared';

/** The sequential meaning of a plan over `items`. */
function sequential(items: number[], plan: Plan): unknown {
  const units: unknown[] = plan.chunks
    ? Array.from({ length: Math.ceil(items.length / plan.chunks) }, (_, i) => items.slice(i * plan.chunks!, (i + 1) * plan.chunks!))
    : items;
  const out: unknown[] = [];
  units.forEach((unit, index) => {
    let item = unit;
    for (const [op, name, ...extra] of plan.steps) {
      if (op === 'enumerate') item = [index, item];
      else if (op === 'map') item = (Fixture as any)[name](item, ...extra);
      else if (!(Fixture as any)[name](item, ...extra)) return;
    }
    out.push(item);
  });
  const numbers = out as number[];
  switch (plan.terminal[0]) {
    case 'collect':
      return out;
    case 'sum':
      return numbers.reduce((a, b) => a + b, 0);
    case 'count':
      return out.length;
    case 'min':
      return numbers.reduce<number | undefined>((a, b) => (a === undefined || b < a ? b : a), undefined);
    case 'max':
      return numbers.reduce<number | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);
    case 'reduce':
      return numbers.reduce((a, b) => Fixture.add(a, b), plan.terminal[2]);
  }
}

function sourceOf(kind: SourceKind, items: number[], start: number): any {
  switch (kind) {
    case 'range':
      return range(start, start + items.length);
    case 'array':
      return items;
    case 'int32':
      return Int32Array.from(items);
    case 'float64':
      return Float64Array.from(items);
    case 'shared': {
      const shared = new Float64Array(new SharedArrayBuffer(8 * items.length));
      shared.set(items);
      return shared;
    }
  }
}

function itemsOf(kind: SourceKind, items: number[], start: number): number[] {
  return kind === 'range' ? items.map((_, i) => start + i) : items;
}

/** Typed-array views (chunks of a typed array) compared as plain arrays. */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

const numberStep = fc.oneof(
  fc.constant<Step>(['map', 'square']),
  fc.integer({ min: -50, max: 50 }).map<Step>((k) => ['map', 'addTo', k]),
  fc.constant<Step>(['filter', 'isEven']),
  fc.integer({ min: 1, max: 5 }).map<Step>((k) => ['filter', 'divisibleBy', k]),
);
const numberTerminal = fc.oneof(
  fc.constant<Terminal>(['collect']),
  fc.constant<Terminal>(['sum']),
  fc.constant<Terminal>(['min']),
  fc.constant<Terminal>(['max']),
  fc.constant<Terminal>(['count']),
  // The identity may be used once per piece, as in Rayon: it must be a true identity.
  fc.constant<Terminal>(['reduce', 'add', 0]),
);
const limit = fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined });

const plan: fc.Arbitrary<Plan> = fc
  .record({
    chunks: fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
    // Squares at most twice, so that every sum stays an exact integer.
    steps: fc.array(numberStep, { maxLength: 3 }).filter((steps) => steps.filter(([, name]) => name === 'square').length <= 2),
    enumerate: fc.boolean(),
    minLen: limit,
    maxLen: limit,
    terminal: numberTerminal,
  })
  .map(({ chunks, steps, enumerate, minLen, maxLen, terminal }): Plan => {
    // A chunk is folded to a number first (or counted, or collected as it is).
    const chunkStep: Step[] = chunks ? [['map', terminal[0] === 'count' ? 'length' : 'sumOf']] : [];
    // Pairs can only be collected or counted.
    if (enumerate)
      return {
        chunks,
        steps: [...chunkStep, ...steps, ['enumerate']],
        minLen,
        maxLen,
        terminal: terminal[0] === 'count' ? terminal : ['collect'],
      };
    return { chunks, steps: [...chunkStep, ...steps], minLen, maxLen, terminal };
  });

const input = fc.record({
  kind: fc.constantFrom<SourceKind>('array', 'range', 'int32', 'float64', 'shared'),
  items: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 300 }),
  start: fc.integer({ min: -500, max: 500 }),
});

describe.each([2, 3])('parallel iterators on %i threads', (threads) => {
  let pool: ThreadPool<typeof Fixture>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Fixture>({ module, threads });
  });
  afterAll(() => pool.close());

  it('give the sequential result from the main thread', async () => {
    await fc.assert(
      fc.asyncProperty(input, plan, async ({ kind, items, start }, p) => {
        const result = await Fixture.applyPlan(pool.parIter(sourceOf(kind, items, start)), p, (name: string) => name);
        expect(plain(result)).toEqual(sequential(itemsOf(kind, items, start), p));
      }),
      { numRuns: 150 },
    );
  });

  it('give the sequential result from inside a task', async () => {
    await fc.assert(
      fc.asyncProperty(input, plan, async ({ kind, items, start }, p) => {
        const result = await pool.run('planInside', sourceOf(kind, items, start), p);
        expect(plain(result)).toEqual(sequential(itemsOf(kind, items, start), p));
      }),
      { numRuns: 150 },
    );
  });

  // Inline steps: the same plans with plain functions (the fixture's, shipped as source) in place of task names.
  it('give the sequential result with inline steps from the main thread', async () => {
    await fc.assert(
      fc.asyncProperty(input, plan, async ({ kind, items, start }, p) => {
        const result = await Fixture.applyPlan(pool.parIter(sourceOf(kind, items, start)), p, (name: string) => (Fixture as any)[name]);
        expect(plain(result)).toEqual(sequential(itemsOf(kind, items, start), p));
      }),
      { numRuns: 100 },
    );
  });

  it('give the sequential result with inline steps from inside a task', async () => {
    await fc.assert(
      fc.asyncProperty(input, plan, async ({ kind, items, start }, p) => {
        const result = await pool.run('planInsideInline', sourceOf(kind, items, start), p);
        expect(plain(result)).toEqual(sequential(itemsOf(kind, items, start), p));
      }),
      { numRuns: 100 },
    );
  });
});
