/**
 * inspectValue and the codec's use of it: what cannot cross threads is rejected with an
 * EncodeError whose `path` names it, acyclic values (deep or with shared references) are accepted,
 * and HAS_MAP (which selects the map-preserving encoding) is reported exactly when a Map is present.
 *
 * Values deeper than the fast scan's limit (64) are included on purpose: they take the careful walk.
 */
import { describe, expect, it } from 'vitest';
import { HAS_MAP, inspectValue } from '../../src/codec/inspect.js';
import { EncodeError } from '../../src/errors.js';
import { PayloadKind } from '../../src/shm/slot.js';
import { makeCodec, roundTripList, thrown } from '../support/codec.js';

const rig = makeCodec();
const fn = () => 1;
const sym = Symbol('s');

/** `leaf` under `depth` levels of `{ d: ... }`. */
function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { d: value };
  return value;
}

/** The EncodeError that encoding `args` as task arguments throws. */
function encodeErrorOf(args: readonly unknown[]): EncodeError {
  const error = thrown(() => rig.codec.encodeList(args, 'args'));
  expect(error).toBeInstanceOf(EncodeError);
  return error as EncodeError;
}

describe('functions and symbols are rejected with the exact path', () => {
  const cases: [string, unknown[], string][] = [
    ['a function as an argument', [1, fn], 'args[1]'],
    ['a symbol as an argument', [sym], 'args[0]'],
    ['a function in an object', [1, { callback: fn }], 'args[1].callback'],
    ['a symbol deep in an object', [{ a: { b: sym } }], 'args[0].a.b'],
    ['a function in an array', [[0, 1, fn]], 'args[0][2]'],
    ['a function under a key that is not an identifier', [{ 'my-key': { '0x': fn } }], 'args[0]["my-key"]["0x"]'],
    ['a function as a Map value under a string key', [new Map([['onDone', fn]])], 'args[0].onDone'],
    ['a function as a Map value under a number key', [new Map([[7, fn]])], 'args[0][7]'],
    ['a function as a Map value under an object key', [new Map([[{}, fn]])], 'args[0]["<value 0>"]'],
    [
      'a function as a Map key',
      [
        new Map<unknown, unknown>([
          ['a', 1],
          [fn, 2],
        ]),
      ],
      'args[0]["<key 1>"]',
    ],
    ['a symbol as a Map key', [new Map([[sym, 1]])], 'args[0]["<key 0>"]'],
    ['a function in a Set', [new Set([1, fn])], 'args[0]["<entry 1>"]'],
    ['a symbol in a Set', [new Set([sym])], 'args[0]["<entry 0>"]'],
    ['a function as an Error property', [Object.assign(new Error('e'), { retry: fn })], 'args[0].retry'],
    ['a function as an Error cause', [new Error('e', { cause: fn })], 'args[0].cause'],
    [
      'a function in a class instance',
      [
        new (class Job {
          run = fn;
        })(),
      ],
      'args[0].run',
    ],
    // A long path keeps its first and last 8 segments.
    ['a function 100 levels deep', [nested(100, fn)], `args[0]${'.d'.repeat(7)}…(85 more)…${'.d'.repeat(8)}`],
  ];

  it.each(cases)('%s', (_, args, path) => {
    const error = encodeErrorOf(args);
    expect(error.path).toBe(path);
    expect(error.code).toBe('VISCOSE_UNENCODABLE');
    expect(error.message).toContain(`${path} cannot be sent to another thread`);
  });

  it('the message says what was wrong', () => {
    expect(encodeErrorOf([fn]).message).toMatch(/functions cannot be sent/);
    expect(encodeErrorOf([sym]).message).toMatch(/symbols cannot be sent/);
  });

  it('the index counts from firstIndex (the arguments of later calls in a batch)', () => {
    const error = thrown(() => rig.codec.encodeList([1, { f: fn }], 'calls', 4));
    expect(error).toMatchObject({ path: 'calls[5].f' });
  });

  it('a result is named from the root alone', () => {
    expect(thrown(() => rig.codec.encodeValue(fn, 'result'))).toMatchObject({ path: 'result' });
    expect(thrown(() => rig.codec.encodeValue({ list: [sym] }, 'result'))).toMatchObject({ path: 'result.list[0]' });
  });

  it('inspectValue names `root` alone when no index is given', () => {
    expect(thrown(() => inspectValue({ f: fn }, 'value'))).toMatchObject({ path: 'value.f' });
  });
});

describe('circular structures are rejected where the cycle closes', () => {
  function objectCycle(): unknown {
    const root: Record<string, any> = { b: {} };
    root.b.c = root;
    return root;
  }
  function arrayCycle(): unknown {
    const root: unknown[] = [1, [2]];
    (root[1] as unknown[]).push(root);
    return root;
  }
  function mapCycle(): unknown {
    const map = new Map<string, unknown>([['data', 1]]);
    map.set('self', map);
    return map;
  }
  function setCycle(): unknown {
    const set = new Set<unknown>();
    set.add(set);
    return set;
  }
  function causeCycle(): unknown {
    const error = new Error('loop');
    error.cause = error;
    return error;
  }
  /** A cycle of 100 objects: longer than the fast scan goes. */
  function longCycle(): unknown {
    const first: Record<string, unknown> = {};
    let last = first;
    for (let i = 1; i < 100; i++) {
      last.d = {};
      last = last.d as Record<string, unknown>;
    }
    last.d = first;
    return first;
  }

  const cases: [string, () => unknown, string][] = [
    ['an object', objectCycle, 'args[0].b.c'],
    ['an array', arrayCycle, 'args[0][1][1]'],
    ['a Map holding itself', mapCycle, 'args[0].self'],
    ['a Set holding itself', setCycle, 'args[0]["<entry 0>"]'],
    ['an Error that is its own cause', causeCycle, 'args[0].cause'],
    ['a cycle of 100 objects', longCycle, `args[0]${'.d'.repeat(7)}…(85 more)…${'.d'.repeat(8)}`],
  ];

  it.each(cases)('%s', (_, make, path) => {
    const error = encodeErrorOf(['first', make()]);
    expect(error.path).toBe(path.replace('args[0]', 'args[1]'));
    expect(error.message).toMatch(/circular structures cannot be sent/);
  });
});

describe('acyclic values are accepted', () => {
  it.each([
    ['objects', nested(200, 'leaf')],
    ['arrays', Array.from({ length: 200 }).reduce<unknown>((inner) => [inner], 'leaf')],
    ['Maps', Array.from({ length: 200 }).reduce<unknown>((inner) => new Map([['d', inner]]), 'leaf')],
  ])('nesting 200 levels deep (%s) round-trips', (_, value) => {
    expect(roundTripList(rig, [value])).toStrictEqual([value]);
  });

  it('a shared (non-circular) reference used twice is accepted and comes back as two equal copies', () => {
    const shared = { x: 1 };
    const [value] = roundTripList(rig, [{ a: shared, b: shared, list: [shared] }]) as [Record<string, unknown>];
    expect(value).toStrictEqual({ a: { x: 1 }, b: { x: 1 }, list: [{ x: 1 }] });
    expect(value.a).not.toBe(value.b);
  });

  it('the same object passed as two arguments is accepted', () => {
    const shared = { x: 1 };
    expect(roundTripList(rig, [shared, shared])).toStrictEqual([{ x: 1 }, { x: 1 }]);
  });

  it('a shared reference in two branches deeper than the fast scan is not mistaken for a cycle', () => {
    const shared = { x: new Map([[1, 2]]) };
    const value = { left: nested(70, shared), right: nested(70, shared) };
    expect(roundTripList(rig, [value])).toStrictEqual([value]);
  });
});

describe('HAS_MAP is reported exactly when a Map is present', () => {
  const withMap: [string, unknown][] = [
    ['a Map', new Map()],
    ['a Map in an object', { m: new Map([[1, 2]]) }],
    ['a Map in an array', [1, [new Map()]]],
    ['a Map in a Set', new Set([new Map()])],
    ['a Map as a Map key', new Map([[new Map(), 1]])],
    ['a Map in a Map value', new Map([['inner', new Map()]])],
    ['a Map 100 levels deep', nested(100, new Map())],
    ['a Map as an Error cause', new Error('e', { cause: new Map() })],
    ['a Map as an Error property', Object.assign(new Error('e'), { details: new Map() })],
    [
      'a Map in a class instance',
      new (class Holder {
        index = new Map();
      })(),
    ],
  ];
  const withoutMap: [string, unknown][] = [
    ['a number', 1],
    ['a string', 'map'],
    ['null', null],
    ['undefined', undefined],
    ['a plain object', { a: { b: [1, 'two'] } }],
    ['an array', [1, [2, [3]]]],
    ['a Set', new Set([1, { a: 2 }])],
    ['a Date, a RegExp and binary data', [new Date(0), /x/, new Uint8Array(2), new ArrayBuffer(2)]],
    ['an Error with a cause', new Error('e', { cause: new TypeError('t') })],
    [
      'a class instance',
      new (class Plain {
        a = 1;
      })(),
    ],
    ['an object 100 levels deep', nested(100, 'leaf')],
  ];

  it.each(withMap)('%s → HAS_MAP, map-preserving encoding', (_, value) => {
    expect(inspectValue(value, 'value')).toBe(HAS_MAP);
    expect(rig.codec.encodeValue(value, 'result').kind).toBe(PayloadKind.RECORDS);
  });

  it.each(withoutMap)('%s → 0', (_, value) => {
    expect(inspectValue(value, 'value')).toBe(0);
    expect(rig.codec.encodeValue(value, 'result').kind).not.toBe(PayloadKind.RECORDS);
  });

  it('encodeList selects the map-preserving encoding when any one argument holds a Map', () => {
    expect(rig.codec.encodeList([{ a: 1 }, 'x'], 'args').kind).toBe(PayloadKind.PLAIN);
    expect(rig.codec.encodeList([{ a: 1 }, new Map()], 'args').kind).toBe(PayloadKind.RECORDS);
  });
});

// Known gaps, kept as expected failures so that they show up once fixed: the inspection walks an
// Error's own enumerable properties and its cause, but not AggregateError#errors (an own
// non-enumerable property), which the error extension does encode.
describe('AggregateError#errors (known gap: not inspected)', () => {
  it('a function in AggregateError#errors is named by its path', () => {
    const error = encodeErrorOf([new AggregateError([new Error('a'), fn])]);
    // Today: path "args" (the whole list) and msgpack.ts's last-resort message.
    expect(error.path).toBe('args[0].errors[1]');
  });

  it('a cycle through AggregateError#errors is reported as circular', () => {
    const aggregate = new AggregateError([], 'loop');
    aggregate.errors.push(aggregate);
    // Today: "Maximum call stack size exceeded" from msgpackr, wrapped with path "args".
    expect(encodeErrorOf([aggregate]).message).toMatch(/circular/);
  });

  it('a Map in AggregateError#errors comes back as a Map', () => {
    // Today: HAS_MAP is not reported, so the Map is encoded as a msgpack map and decoded as a plain object.
    const [decoded] = roundTripList(rig, [new AggregateError([new Map([['k', 1]])])]) as [AggregateError];
    expect(decoded.errors[0]).toBeInstanceOf(Map);
  });
});

// Known gap, kept as an expected failure: the careful walk recurses, so nesting deep enough to
// exhaust the stack escapes as a plain RangeError instead of an EncodeError with a path.
it('a value nested beyond what the stack allows is rejected with an EncodeError', () => {
  expect(thrown(() => rig.codec.encodeList([nested(100_000, 1)], 'args'))).toBeInstanceOf(EncodeError);
});
