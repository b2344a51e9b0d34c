// Finding where msgpack values end without decoding them (src/codec/msgpack-extent.ts): the
// elements of a packed list must be exactly what packing each alone gives, for every type of
// JSON-like data, and extensions and bytes that are not msgpack must be refused, never read past.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pack } from '../../src/codec/msgpack.js';
import { elementsOf, endOfValue } from '../../src/codec/msgpack-extent.js';
import { PayloadKind } from '../../src/shm/slot.js';

/** A copy of `value`'s PLAIN msgpack bytes. */
function packed(value: unknown): Uint8Array {
  const { bytes, start, end } = pack(value, PayloadKind.PLAIN);
  return bytes.slice(start, end);
}

/** The bytes of each element of `values` packed as one list, cut where elementsOf says. */
function cut(values: unknown[]): Uint8Array[] {
  const list = packed(values);
  const { first, ends } = elementsOf(list, 0, list.length);
  return ends.map((end, i) => list.slice(i === 0 ? first : ends[i - 1], end));
}

describe('msgpack extents', () => {
  it('cuts a packed list into what packing each element alone gives, for any JSON-like data', () => {
    const number = fc.oneof(fc.double(), fc.integer({ min: -(2 ** 31), max: 2 ** 32 }), fc.maxSafeInteger(), fc.maxSafeNat());
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        number,
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.array(tie('value'), { maxLength: 20 }),
        fc.dictionary(fc.string(), tie('value'), { maxKeys: 20 }),
      ),
    }));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 20 }), (values) => {
        expect(cut(values)).toEqual(values.map(packed));
      }),
      { numRuns: 300 },
    );
  });

  it('passes every length class: 8, 16 and 32-bit strings, bytes, lists and maps, and numbers of every width', () => {
    const wideMap = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i]));
    const values: unknown[] = [
      'a'.repeat(31),
      'a'.repeat(200),
      'a'.repeat(300),
      'a'.repeat(70_000),
      Array.from({ length: 20 }, (_, i) => i),
      Array.from({ length: 70_000 }, (_, i) => i % 3),
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, [i]])),
      wideMap,
      [null, true, false],
      [0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31) - 1],
      [0.5, Math.fround(0.25), 1e300, Number.NaN, Number.NEGATIVE_INFINITY],
    ];
    expect(cut(values)).toEqual(values.map(packed));
    // Binary: standard msgpack, though the codec writes byte arrays as an extension of its own.
    const bin = new Uint8Array([0x92, 0xc4, 0x02, 0xc1, 0xc1, 0xc5, 0x01, 0x00, ...new Uint8Array(256)]);
    expect(elementsOf(bin, 0, bin.length)).toEqual({ first: 1, ends: [5, bin.length] });
  });

  it('refuses extensions, whose extent depends on how msgpackr wrote them', () => {
    for (const value of [new Date(0), undefined, new Set([1]), 10n ** 30n]) {
      const list = packed([1, value]);
      expect(() => elementsOf(list, 0, list.length), String(value)).toThrow(/msgpack extension/);
    }
  });

  it('refuses bytes that are not a list, are cut short, or hold more than the list', () => {
    const list = packed([1, 'two', { three: [3] }]);
    expect(() => elementsOf(packed('not a list'), 0, 11)).toThrow(/does not start a msgpack list/);
    expect(() => elementsOf(list, 0, list.length - 1)).toThrow(/runs past byte/);
    expect(() => elementsOf(list.subarray(0, list.length - 1), 0, list.length - 1)).toThrow(RangeError);
    const longer = new Uint8Array([...list, 0x01]);
    expect(() => elementsOf(longer, 0, longer.length)).toThrow(/ends at byte/);
    expect(() => endOfValue(new Uint8Array([0x92, 0x01, 0xc1]), 0)).toThrow(/not a msgpack type/);
    // A string whose length runs past the bytes.
    expect(() => endOfValue(new Uint8Array([0xd9, 0xff, 0x61]), 0)).toThrow(/runs past the end/);
    // A list that claims more elements than there are bytes.
    expect(() => endOfValue(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), 0)).toThrow(/runs past the end/);
  });
});
