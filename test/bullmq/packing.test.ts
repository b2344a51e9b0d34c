// A chunk's arguments packed for a node and its values packed for the client
// (src/bullmq/packing.ts): whatever JSON's types cover must decode to exactly what JSON would have
// given; anything else must be left to JSON, and data that does not decode must be refused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesInJob, packCalls, packValues, unpackCalls, unpackValues } from '../../src/bullmq/packing.js';

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
        expect(packed).toBeDefined();
        expect([...unpackCalls(packed!)]).toEqual(throughJson(calls));
        // What BullMQ stores: the data survives JSON itself.
        expect([...unpackCalls(JSON.parse(JSON.stringify(packed)))]).toEqual(throughJson(calls));
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
    for (const value of [new Date(0), { at: undefined }, new Map(), new Uint8Array(1), [Number.NaN]]) {
      expect(packValues([1, value])).toBeUndefined();
    }
    expect(() => unpackValues(Buffer.from([0x2a]).toString('base64'))).toThrow(/not a list/);
  });

  it('keeps -0 as JSON does, numbers past 32 bits exactly, and keys in their order', () => {
    const numbers = [2 ** 40, 2 ** 53 - 1, -(2 ** 53 - 1), -(2 ** 31) - 1, 2 ** 32 + 0.5, 1.5e300, 5e-324];
    expect([...unpackCalls(packCalls([numbers])!)]).toEqual([numbers]);
    expect(unpackValues(packValues([{ numbers }])!)).toEqual([{ numbers }]);
    const calls = [
      [-0, { b: 1, a: 2, 10: 3, 2: 4 }],
      [[], {}, ''],
    ];
    const decoded = [...unpackCalls(packCalls(calls)!)];
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

  it('refuses data whose lengths do not cut its bytes into parts', () => {
    const { packed, lengths } = packCalls([[1], ['two'], [{ three: 3 }]])!;
    expect([...unpackCalls({ packed, lengths })]).toEqual([[1], ['two'], [{ three: 3 }]]);
    expect(() => unpackCalls({ packed, lengths: lengths.slice(0, 2) })).toThrow(/parts end at byte/);
    expect(() => unpackCalls({ packed, lengths: [...lengths, 1] })).toThrow(/lengths\[3\]/);
    expect(() => unpackCalls({ packed, lengths: [0, ...lengths] })).toThrow(/lengths\[0\] \(0\)/);
    expect(() => unpackCalls({ packed, lengths: [0.5, ...lengths.slice(1)] })).toThrow(RangeError);
    expect(() => unpackCalls({ packed, lengths: [lengths[0] + 1, lengths[1] - 1, lengths[2]] })).not.toThrow();
    expect(() => unpackCalls({ packed, lengths: undefined as unknown as number[] })).toThrow(TypeError);
  });

  it("counts what a call adds to a job's data, packed or in JSON", () => {
    const args = [{ id: 12_345, msg: 'test-message-12345' }];
    const { packed, lengths } = packCalls([args])!;
    expect(bytesInJob(args)).toBe(JSON.stringify({ packed, lengths }).length - JSON.stringify({ packed: '', lengths: [] }).length + 1);
    expect(bytesInJob([new Date(0)])).toBe(JSON.stringify([new Date(0)]).length);
  });
});
