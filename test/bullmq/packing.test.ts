// A chunk's arguments packed for a node and its values packed for the client
// (src/bullmq/packing.ts): whatever JSON's types cover must decode to exactly what JSON would have
// given; anything else must be left to JSON, and data that does not decode must be refused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  argumentBytes,
  joinPackedValues,
  packCalls,
  packValues,
  unpackCalls,
  unpackValueList,
  unpackValues,
} from '../../src/bullmq/packing.js';
import { packJsonValues } from '../../src/codec/json-values.js';

/** What a task gets for `calls` through JSON, as every call's arguments travelled before. */
const throughJson = (calls: unknown[][]): unknown[][] => JSON.parse(JSON.stringify(calls));

/** Whether `value` holds an object with an own `__proto__` key, which stays in JSON (msgpack decoding drops it). */
function hasProtoKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Object.hasOwn(value, '__proto__') || Object.values(value).some(hasProtoKey);
}

describe('packing', () => {
  it("decode to what JSON gives, for any arguments made of JSON's types", () => {
    const argumentLists = fc.array(fc.array(fc.jsonValue()), { maxLength: 40 });
    fc.assert(
      fc.property(argumentLists, (calls) => {
        const packed = packCalls(calls);
        if (hasProtoKey(calls)) {
          expect(packed).toBeUndefined();
          return;
        }
        if (calls.length === 0) {
          expect(packed).toEqual(Buffer.alloc(0));
          return;
        }
        expect(packed).toBeDefined();
        expect([...unpackCalls(packed!, calls.length)]).toEqual(throughJson(calls));
      }),
      { numRuns: 300 },
    );
  });

  it("packs a chunk's values to decode as their JSON would, or leaves them to JSON", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 40 }), (values) => {
        const packed = packValues(values);
        if (hasProtoKey(values)) {
          expect(packed).toBeUndefined();
          return;
        }
        expect(packed).toBeDefined();
        expect(unpackValues(JSON.parse(JSON.stringify(packed)))).toEqual(JSON.parse(JSON.stringify(values)));
      }),
      { numRuns: 300 },
    );
    // Objects of one shape, as most results are, and the values a failed call leaves.
    const shaped = Array.from({ length: 1000 }, (_, i) => (i === 7 ? null : { id: i, len: i % 17 }));
    expect(unpackValues(packValues(shaped)!)).toEqual(shaped);
    for (const value of [new Date(0), { at: undefined }, new Map(), new Uint8Array(1), [Number.NaN], { '\ud800': 1 }]) {
      expect(packValues([1, value])).toBeUndefined();
    }
    expect(() => unpackValues(Buffer.from([0x2a]).toString('base64'))).toThrow(/not a list/);
  });

  it("joins the lists a node's workers packed into one result's values, in order", () => {
    const lists = [[{ id: 1, len: 2 }, null, 'three'], [{ other: [true] }, { id: 4, len: 5 }], [{ id: 6, len: 7 }]];
    const packed = lists.map((list) => packJsonValues(list)!);
    expect(packed.map(unpackValueList)).toEqual(lists);
    expect(unpackValues(joinPackedValues(packed))).toEqual(lists.flat());
    expect(unpackValues(joinPackedValues(packed.slice(0, 1)))).toEqual(lists[0]);
    // One list as the node packs it itself decodes the same as the workers' lists joined.
    expect(unpackValues(packValues(lists.flat())!)).toEqual(lists.flat());
    expect(() => unpackValues(joinPackedValues([packed[0], Buffer.from([0x2a])]))).toThrow(/not a list/);
  });

  it('keeps -0 as JSON does, numbers past 32 bits exactly, and keys in their order', () => {
    const numbers = [2 ** 40, 2 ** 53 - 1, -(2 ** 53 - 1), -(2 ** 31) - 1, 2 ** 32 + 0.5, 1.5e300, 5e-324];
    expect([...unpackCalls(packCalls([numbers])!, 1)]).toEqual([numbers]);
    expect(unpackValues(packValues([{ numbers }])!)).toEqual([{ numbers }]);
    const calls = [
      [-0, { b: 1, a: 2, 10: 3, 2: 4 }],
      [[], {}, ''],
    ];
    const decoded = [...unpackCalls(packCalls(calls)!, 2)];
    expect(decoded).toEqual(throughJson(calls));
    expect(Object.is(decoded[0][0], 0)).toBe(true);
    expect(Object.keys(decoded[0][1] as object)).toEqual(['2', '10', 'b', 'a']);
  });

  it("leaves to JSON a chunk with any value outside JSON's types", () => {
    // A hole: JSON gives null where msgpack would give undefined.
    const sparse = new Array(3).fill(1);
    delete sparse[1];
    const outside: unknown[] = [
      new Date(0),
      new Map([[1, 2]]),
      undefined,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      10n,
      () => 1,
      Symbol('s'),
      new Uint8Array(2),
      new (class Point {
        x = 1;
      })(),
      { toJSON: () => 'custom' },
      { nested: { deeper: [undefined] } },
      sparse,
      'lone \ud800 surrogate',
      { 'lone \udc00 surrogate in a key': 1 },
      JSON.parse('{"__proto__": 1}'),
    ];
    for (const value of outside) {
      expect(packCalls([[1, 'fine'], [value]]), String(typeof value)).toBeUndefined();
    }
    let deep: unknown = 'bottom';
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(packCalls([[deep]])).toBeUndefined();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(packCalls([[cycle]])).toBeUndefined();
  });

  it('refuses bytes whose lengths do not cut them into the parts of the calls', () => {
    const calls = [[1], ['two'], [{ three: 3 }]];
    const packed = packCalls(calls)!;
    expect([...unpackCalls(packed, 3)]).toEqual(calls);
    // Each part's length, little-endian, then the parts.
    const lengths = [0, 1, 2].map((i) => packed.readUInt32LE(4 * i));
    expect(packed.length).toBe(12 + lengths[0] + lengths[1] + lengths[2]);
    // Read as four calls, the first part's bytes are taken for a length.
    expect(() => unpackCalls(packed, 4)).toThrow(/packed call \d's length/);
    expect(() => unpackCalls(packed, 2)).toThrow(/end at byte/);
    expect(() => unpackCalls(packed.subarray(0, 10), 3)).toThrow(/10 bytes cannot hold the lengths of 3/);
    expect(() => unpackCalls(packed, 0)).toThrow(RangeError);
    expect(() => unpackCalls(packed, 1.5)).toThrow(RangeError);
    const withLength = (index: number, length: number) => {
      const copy = Buffer.from(packed);
      copy.writeUInt32LE(length, 4 * index);
      return copy;
    };
    expect(() => unpackCalls(withLength(0, 0), 3)).toThrow(/call 0's length \(0\)/);
    expect(() => unpackCalls(withLength(2, lengths[2] + 1), 3)).toThrow(/call 2's length/);
    // Lengths that cut the bytes elsewhere are not caught here: the parts then fail to decode.
    const shifted = withLength(1, lengths[1] - 1);
    shifted.writeUInt32LE(lengths[2] + 1, 8);
    expect(() => unpackCalls(shifted, 3)).not.toThrow();
  });

  it('counts what a call adds to a chunk, packed or in JSON', () => {
    const args = [{ id: 12_345, msg: 'test-message-12345' }];
    expect(argumentBytes(args)).toEqual({ bytes: packCalls([args])!.length, packed: true });
    expect(argumentBytes(args).bytes).toBe(packCalls([args, args])!.length / 2);
    expect(argumentBytes([new Date(0)])).toEqual({ bytes: JSON.stringify([new Date(0)]).length, packed: false });
  });
});
