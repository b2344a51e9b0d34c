// Parallel iterators and join are typed from the tasks: a step must accept the items, its extra
// arguments are checked, and the item type follows the chain.
import { describe, expectTypeOf, it } from 'vitest';
import { type PoolParIter, type ThreadPool, range } from 'viscose';
import { type ParIter, join, parIter } from 'viscose/worker';

declare function square(x: number): number;
declare function label(x: number, prefix: string): string;
declare function isEven(x: number): boolean;
declare function add(a: number, b: number): number;
declare function shout(text: string): string;
declare function compare(a: number, b: number): number;
declare function halfOrNothing(x: number): number | undefined;
declare function letters(text: string): string[];

const tasks = { square, label, isEven, add, shout, compare, halfOrNothing, letters };
type Tasks = typeof tasks;

describe('pool.parIter', () => {
  const pool = {} as ThreadPool<Tasks>;

  it('follows the item type through the chain', () => {
    expectTypeOf(pool.parIter(range(0, 10))).toEqualTypeOf<PoolParIter<Tasks, number>>();
    expectTypeOf(pool.parIter(['a']).map('shout').collect()).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(pool.parIter(new Float64Array(4)).map('label', '#').collect()).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(pool.parIter(range(0, 10)).filter('isEven').sum()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.parIter(range(0, 10)).enumerate().collect()).toEqualTypeOf<Promise<[number, number][]>>();
    expectTypeOf(pool.parIter(range(0, 10)).reduce('add', 0)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.parIter(range(0, 10)).min()).toEqualTypeOf<Promise<number | undefined>>();
    expectTypeOf(pool.parIter(new Int32Array(4)).chunks(2).collect()).toEqualTypeOf<Promise<ArrayLike<number>[]>>();
  });

  it('types inline steps from the function given', () => {
    expectTypeOf(
      pool
        .parIter(range(0, 10))
        .map((x) => `${x}`)
        .collect(),
    ).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(
      pool
        .parIter(range(0, 10))
        .filter((x, min: number) => x > min, 3)
        .sum(),
    ).toEqualTypeOf<Promise<number>>();
    expectTypeOf(
      pool
        .parIter(['a'])
        .map('shout')
        .map((text) => text.length)
        .max(),
    ).toEqualTypeOf<Promise<number | undefined>>();
    expectTypeOf(pool.parIter(range(0, 10)).reduce((a, b) => a + b, 0)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(
      pool
        .parIter(range(0, 10))
        .fold('', (text, x) => text + x)
        .collect(),
    ).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(pool.parIter(range(0, 10)).findFirst((x) => x > 3)).toEqualTypeOf<Promise<number | undefined>>();
    // @ts-expect-error the extra argument must be a number
    void pool.parIter(range(0, 10)).filter((x, min: number) => x > min, 'three');
    // @ts-expect-error the items are numbers
    void pool.parIter(range(0, 10)).map((text: string) => text.length);
  });

  it('types the terminals that stop early from their predicate', () => {
    expectTypeOf(pool.parIter(range(0, 10)).any('isEven')).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(pool.parIter(range(0, 10)).all('isEven')).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(pool.parIter(['a']).findFirst('shout')).toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(pool.parIter(range(0, 10)).map('label', '#').findLast('shout')).toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(pool.parIter(range(0, 10)).positionFirst('isEven')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.parIter(range(0, 10)).product()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.parIter(range(0, 10)).minBy('compare')).toEqualTypeOf<Promise<number | undefined>>();
    expectTypeOf(pool.parIter(['a']).maxByKey('shout')).toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(pool.parIter(range(0, 10)).reduceWith('add')).toEqualTypeOf<Promise<number | undefined>>();
    expectTypeOf(pool.parIter(range(0, 10)).filterMap('halfOrNothing').collect()).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(pool.parIter(range(0, 10)).inspect('isEven').sum()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.parIter(range(0, 10)).enumerate().collect(Map)).toEqualTypeOf<Promise<Map<number, number>>>();
    expectTypeOf(pool.parIter(['a']).collect(Set)).toEqualTypeOf<Promise<Set<string>>>();
    expectTypeOf(pool.parIter(range(0, 10)).partition('isEven')).toEqualTypeOf<Promise<[number[], number[]]>>();
    expectTypeOf(pool.parIter(range(0, 10)).enumerate().unzip()).toEqualTypeOf<Promise<[number[], number[]]>>();
    expectTypeOf(pool.parIter(range(0, 10)).skip(1).take(3).stepBy(2).rev().collect()).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(pool.parIter(range(0, 10)).zip(['a', 'b']).collect()).toEqualTypeOf<Promise<[number, string][]>>();
    expectTypeOf(pool.parIter(['ab']).flatMap('letters').collect()).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(pool.parIter(range(0, 10)).chain([1, 2]).collect()).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(
      pool
        .parIter(range(0, 10))
        .zip(pool.parIter(['a']).map('shout'))
        .collect(),
    ).toEqualTypeOf<Promise<[number, string][]>>();
    expectTypeOf(
      pool
        .parIter(range(0, 10))
        .chain(pool.parIter(['a']).map('shout'))
        .collect(),
    ).toEqualTypeOf<Promise<(number | string)[]>>();
    expectTypeOf(pool.parIter(range(0, 10)).fold(0, 'add').sum()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.parIter(range(0, 10)).tryForEach('isEven')).toEqualTypeOf<Promise<void>>();
    expectTypeOf(pool.parIter(range(0, 10)).tryReduce('add', 0)).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error square does not compare two items
    void pool.parIter(range(0, 10)).minBy('square');
    // @ts-expect-error shout takes a string, the items are numbers
    void pool.parIter(range(0, 10)).findAny('shout');
    // @ts-expect-error label needs its prefix
    void pool.parIter(range(0, 10)).any('label');
  });

  it('rejects steps that do not fit', () => {
    // @ts-expect-error shout takes a string, the items are numbers
    void pool.parIter(range(0, 10)).map('shout');
    // @ts-expect-error label needs its prefix
    void pool.parIter(range(0, 10)).map('label');
    // @ts-expect-error the prefix is a string
    void pool.parIter(range(0, 10)).map('label', 1);
    // @ts-expect-error square does not fold two items
    void pool.parIter(range(0, 10)).reduce('square', 0);
    // @ts-expect-error not a task
    void pool.parIter(range(0, 10)).forEach('nope');
  });

  it('lets an untyped pool name any task', () => {
    const untyped = {} as ThreadPool;
    expectTypeOf(untyped.parIter([1, 2]).map('anything', 1, 'two').collect()).toEqualTypeOf<Promise<unknown[]>>();
  });
});

describe('parIter and join inside a task', () => {
  it('follows the item type through the chain', () => {
    expectTypeOf(parIter(range(0, 10))).toEqualTypeOf<ParIter<number>>();
    expectTypeOf(parIter(range(0, 10)).map(label, '#').collect()).toEqualTypeOf<string[]>();
    expectTypeOf(parIter(range(0, 10)).map(square).reduce(add, 0)).toEqualTypeOf<number>();
    expectTypeOf(parIter(range(0, 10)).findFirst(isEven)).toEqualTypeOf<number | undefined>();
    expectTypeOf(parIter(range(0, 10)).map(label, '#').any(shout)).toEqualTypeOf<boolean>();
    expectTypeOf(parIter(range(0, 10)).positionAny(isEven)).toEqualTypeOf<number>();
    expectTypeOf(
      parIter(range(0, 10))
        .zip(parIter(['a']).map(shout))
        .collect(),
    ).toEqualTypeOf<[number, string][]>();
    expectTypeOf(
      parIter(range(0, 10))
        .map(label, '#')
        .chain(parIter(['b']).map(shout))
        .collect(),
    ).toEqualTypeOf<string[]>();
    expectTypeOf(
      parIter(range(0, 10))
        .fold([] as number[], (list, x) => [...list, x])
        .collect(),
    ).toEqualTypeOf<number[][]>();
    expectTypeOf(
      parIter(range(0, 10))
        .mapInit(
          () => new Float64Array(1),
          (scratch: Float64Array, x: number) => scratch[0] + x,
        )
        .collect(),
    ).toEqualTypeOf<number[]>();
  });

  it('rejects steps that do not fit', () => {
    // @ts-expect-error shout takes a string, the items are numbers
    void parIter(range(0, 10)).map(shout);
    // @ts-expect-error label needs its prefix
    void parIter(range(0, 10)).map(label);
  });

  it('types both results of a join and checks the calls', () => {
    expectTypeOf(join([square, 2], [label, 3, '#'])).toEqualTypeOf<[number, string]>();
    // @ts-expect-error label needs its prefix
    void join([square, 2], [label, 3]);
  });
});
