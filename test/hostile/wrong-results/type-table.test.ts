// The pool guide's "What crosses threads" table (docs/guide/pool.md), checked against the pool. Each
// row below is a row of that table, word for word, with sample values (test/fixtures/values.mjs) and
// what must come back; the guide must list exactly these rows, and every sample goes through `run`
// and `runBatch`, as an argument and as a worker's result. Change the guide's claims here, where
// they are tested.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncodeError, TaskError, ThreadPool, transfer } from 'viscose';
import type * as Values from '../../fixtures/values.mjs';
import { sample } from '../../fixtures/values.mjs';
import { crossings } from '../../support/crossings.js';

/** `original` is the value sent, or (for a result) the same sample built on this thread. */
type Check = (out: unknown, original: unknown, wasSent: boolean) => void;

interface Example {
  kind: string;
  /** Defaults to a deep, strict comparison with the sample (-0 and boxes included). */
  check?: Check;
  /** A value only the main thread can make: sent and echoed back, never built by a worker. */
  make?: () => unknown;
}

interface Row {
  value: string;
  back: string;
  examples?: Example[];
  /** Refused values: the sample kind and the path under the sample where the culprit sits. */
  refused?: [kind: string, suffix: string][];
}

const same: Check = (out, original) => expect(out).toStrictEqual(original);
const bytesOf = (view: ArrayBufferView) => [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)];

const ROWS: Row[] = [
  {
    value: 'numbers (NaN, ±Infinity and -0 included), booleans, `null`',
    back: 'themselves, wherever they are in the value',
    examples: [
      { kind: 'number' },
      { kind: 'nan' },
      { kind: 'infinity' },
      { kind: 'negativeZero' },
      { kind: 'negativeZeroNested' },
      { kind: 'boolean' },
      { kind: 'null' },
    ],
  },
  {
    value: 'strings',
    back: 'themselves; a lone surrogate becomes U+FFFD',
    examples: [{ kind: 'string' }, { kind: 'loneSurrogate', check: (out) => expect(out).toBe('a\ufffdb') }],
  },
  {
    value: '`undefined` (argument, array element, property value)',
    back: '`undefined`, and the property is kept',
    examples: [{ kind: 'undefinedProperty' }],
  },
  { value: 'BigInt, any size', back: 'BigInt', examples: [{ kind: 'bigint' }] },
  {
    value: 'boxed primitives: `new Number(…)`, `new String(…)`, `new Boolean(…)`, `Object(1n)`',
    back: 'the same kind of box with the same value, as `structuredClone` gives',
    examples: ['boxedNumber', 'boxedString', 'boxedBoolean', 'boxedBigInt'].map((kind) => ({
      kind,
      check: (out, original) => {
        expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(original));
        expect(Object.is((out as object).valueOf(), (original as object).valueOf())).toBe(true);
      },
    })),
  },
  {
    value: 'plain objects (any number of keys), arrays (nested)',
    back: 'plain objects, arrays; a hole in a sparse array stays a hole (as `structuredClone` keeps it), and an array of length 2^26 holding one item costs one item',
    examples: [
      { kind: 'plainObject' },
      { kind: 'manyKeys' },
      { kind: 'sparseArray', check: (out) => expect(Object.keys(out as unknown[])).toEqual(['0', '2']) },
    ],
  },
  {
    value: 'an own property named `"__proto__"`',
    back: 'renamed `"__proto_"` (msgpackr\'s guard against prototype pollution; a Map key `"__proto__"` is kept)',
    examples: [{ kind: 'protoKey', check: (out) => expect(Object.entries(out as object)).toEqual([['__proto_', 1]]) }],
  },
  {
    value: 'symbol-keyed or non-enumerable properties',
    back: 'dropped (getters are read)',
    examples: [{ kind: 'hiddenProperties', check: (out) => expect(out).toStrictEqual({ visible: 1, computed: 3 }) }],
  },
  {
    value: '`Map` (keys of any type, nested), `Set`',
    back: '`Map`, `Set`, insertion order kept',
    examples: [{ kind: 'map' }, { kind: 'set' }],
  },
  { value: '`Date`', back: '`Date`', examples: [{ kind: 'date' }] },
  {
    value: '`RegExp`',
    back: '`RegExp` (same source and flags, `lastIndex` 0)',
    examples: [
      {
        kind: 'regexp',
        check: (out, original) => {
          expect(out).toBeInstanceOf(RegExp);
          expect([(out as RegExp).source, (out as RegExp).flags, (out as RegExp).lastIndex]).toEqual([
            (original as RegExp).source,
            (original as RegExp).flags,
            0,
          ]);
        },
      },
    ],
  },
  {
    value:
      'typed arrays (`Uint8Array` ... `BigInt64Array`, and `Float16Array` where the runtime has it), `ArrayBuffer`, `DataView`, `Buffer`',
    back: 'the same type, copied; a view over part of a buffer comes back as just that part. Marked with `transfer()`, the whole buffer moves instead ([transfers](transfers.md))',
    examples: [
      {
        // Moved to the worker (the caller's buffer is detached at once), copied back by the echo.
        kind: 'movedView',
        make: () => transfer(new Float64Array(new ArrayBuffer(32), 8, 2).fill(-0.5)),
        check: (out, original) => {
          expect(out).toBeInstanceOf(Float64Array);
          expect([...(out as Float64Array)]).toEqual([-0.5, -0.5]);
          expect((original as Float64Array).buffer.byteLength).toBe(0);
        },
      },
      { kind: 'typedArray' },
      ...('Float16Array' in globalThis ? [{ kind: 'float16Array' }] : []),
      { kind: 'bigInt64Array' },
      { kind: 'arrayBuffer' },
      { kind: 'buffer', check: (out, original) => expect(Buffer.isBuffer(out) && (out as Buffer).equals(original as Buffer)).toBe(true) },
      ...['partialView', 'dataView'].map((kind) => ({
        kind,
        check: (out: unknown, original: unknown) => {
          expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(original));
          expect((out as ArrayBufferView).buffer.byteLength).toBe((original as ArrayBufferView).byteLength);
          expect(bytesOf(out as ArrayBufferView)).toEqual(bytesOf(original as ArrayBufferView));
        },
      })),
    ],
  },
  {
    value: 'a `MessagePort` marked with `transfer()`',
    back: 'the port, moved ([transfers](transfers.md)); unmarked, refused with `EncodeError`',
    refused: [['messagePort', '.port']],
  },
  {
    value: 'typed arrays or `DataView` over a `SharedArrayBuffer`',
    back: 'a view of the same shared memory (not a copy); see *Shared memory travels by reference*',
    examples: [
      {
        kind: 'sharedView',
        make: () => new Int32Array(new SharedArrayBuffer(16), 4, 2),
        check: (out, original) => {
          expect(out).toBeInstanceOf(Int32Array);
          expect((out as Int32Array).buffer).toBe((original as Int32Array).buffer);
          expect([(out as Int32Array).byteOffset, (out as Int32Array).length]).toEqual([4, 2]);
        },
      },
    ],
  },
  {
    value: '`Error`, `TypeError`, `RangeError`, ... and `AggregateError`',
    back: 'the same class, with message, the original stack, `code`, `cause` and own properties (and `errors`)',
    examples: ['error', 'aggregateError', 'negativeZeroInError'].map((kind) => ({
      kind,
      check: (out, original, wasSent) => {
        const error = out as Error;
        expect(Object.getPrototypeOf(error)).toBe(Object.getPrototypeOf(original));
        // The stack of the thread that made it, not of the one that decoded it.
        if (wasSent) expect(error.stack).toBe((original as Error).stack);
        else expect(error.stack).not.toMatch(/type-table\.test/);
        expect({ ...error, message: error.message, cause: error.cause }).toStrictEqual({
          ...(original as Error),
          message: (original as Error).message,
          cause: (original as Error).cause,
        });
        if (original instanceof AggregateError) expect((error as AggregateError).errors).toEqual(original.errors);
      },
    })),
  },
  {
    value: 'other `Error` subclasses',
    back: '`Error` with the original `name`, message, stack, `code`, `cause` and own properties',
    examples: [
      {
        kind: 'customError',
        check: (out) => {
          expect(Object.getPrototypeOf(out)).toBe(Error.prototype);
          expect([(out as Error).name, (out as Error).message]).toEqual(['MyError', 'mine']);
        },
      },
    ],
  },
  {
    value: 'class instances',
    back: 'plain objects with their own enumerable properties (the prototype stays behind); with a `toJSON` method, what it returns, carried like any other value (a `Map` in it stays a `Map`, a function in it is refused at `….toJSON().key`, a `toJSON` that throws gives `EncodeError` with its error as `cause`)',
    examples: [
      { kind: 'classInstance', check: (out) => expect(out).toStrictEqual({ x: 3, y: 4 }) },
      { kind: 'classWithToJSON', check: (out) => expect(out).toBe('21 °C') },
      {
        kind: 'toJSONWithMap',
        check: (out) => {
          const values = (out as { reading: { values: Map<string, number> } }).reading.values;
          expect(values).toBeInstanceOf(Map);
          expect(Object.is(values.get('zero'), -0)).toBe(true);
        },
      },
    ],
  },
  {
    value:
      'functions, symbols (boxed or not), circular structures, a `SharedArrayBuffer` itself, `WeakMap`, `WeakSet`, `WeakRef`, `FinalizationRegistry`, promises, iterators and generators (sync or async)',
    back: 'refused with `EncodeError` naming the path, before anything is queued (a result: its task fails with that error)',
    refused: [
      ['function', '.callback'],
      ['symbol', '.tag'],
      ['boxedSymbol', '.tag'],
      ['circular', '.self'],
      ['sharedArrayBuffer', '.memory'],
      ['weakMap', '.cache'],
      ['weakSet', '.seen'],
      ['weakRef', '.ref'],
      ['finalizationRegistry', '.registry'],
      ['promise', '.later'],
      ['generator', '.numbers'],
      ['asyncGenerator', '.numbers'],
      ['iterator', '.entries'],
    ],
  },
];

/** The rows of the pool guide's table under "## What crosses threads", as [value, comes back as]. */
function guideRows(): [string, string][] {
  const guide = readFileSync(new URL('../../../docs/guide/pool.md', import.meta.url), 'utf8');
  const section = guide.slice(guide.indexOf('\n## What crosses threads\n'));
  const lines = section.split('\n');
  const first = lines.findIndex((line) => line.startsWith('| value |'));
  const rows: [string, string][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, -1)
      .split(' | ')
      .map((cell) => cell.trim());
    expect(cells).toHaveLength(2);
    rows.push([cells[0], cells[1]]);
  }
  return rows;
}

it('the pool guide lists exactly the rows tested here', () => {
  expect(guideRows()).toEqual(ROWS.map((row) => [row.value, row.back]));
});

let pool: ThreadPool<typeof Values>;
beforeAll(async () => {
  pool = await ThreadPool.create<typeof Values>({ module: new URL('../../fixtures/values.mjs', import.meta.url), threads: 2 });
});
afterAll(() => pool.close());
const { sent, returned } = crossings(() => pool);

describe.each(ROWS.map((row) => [row.value, row] as const))('%s', (_, row) => {
  describe.each(['run', 'runBatch'] as const)('through %s', (way) => {
    for (const { kind, check = same, make } of row.examples ?? []) {
      it(`${kind} as an argument`, async () => {
        const original = make ? make() : sample(kind);
        check(await sent(way, original), original, true);
      });
      if (!make) {
        it(`${kind} as a result`, async () => check(await returned(way, kind), sample(kind), false));
      }
    }
    for (const [kind, suffix] of row.refused ?? []) {
      it(`${kind} is refused as an argument`, async () => {
        const call = sent(way, sample(kind));
        await expect(call).rejects.toBeInstanceOf(EncodeError);
        await expect(call).rejects.toMatchObject({ path: (way === 'run' ? 'args[0]' : 'argsList[1][0]') + suffix });
      });
      it(`${kind} fails its task as a result`, async () => {
        const error = await returned(way, kind).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error).toBeInstanceOf(TaskError);
        expect((error as TaskError).cause).toMatchObject({ name: 'EncodeError', code: 'VISCOSE_UNENCODABLE' });
        expect(((error as TaskError).cause as Error).message).toMatch(new RegExp(`^result(\\[\\d+\\])?\\${suffix} cannot be sent`));
      });
    }
  });
});
