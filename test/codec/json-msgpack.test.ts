// The one-pass msgpack writer for JSON data (src/codec/json-msgpack.ts): what it writes must decode,
// with the pool's own decoder, to what JSON would give, at every size where msgpack changes form,
// and it must refuse what JSON's types do not cover, as isJsonData does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packJsonEach } from '../../src/codec/json-msgpack.js';
import { isJsonData } from '../../src/codec/json-values.js';
import { unpack } from '../../src/codec/msgpack.js';
import { PayloadKind } from '../../src/shm/slot.js';

/** `value` written alone, or undefined when the writer refuses it. */
const written = (value: unknown): Buffer | undefined => packJsonEach([value], 0, 0)?.bytes;

const decoded = (bytes: Uint8Array) => unpack(bytes, bytes.length, PayloadKind.PLAIN);
const throughJson = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('the msgpack writer for JSON data', () => {
  it('writes any JSON value so that it decodes to what JSON gives, and refuses what isJsonData refuses', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = written(value);
        expect(bytes !== undefined).toBe(isJsonData(value, 0));
        if (bytes !== undefined) expect(decoded(bytes)).toEqual(throughJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it('writes every well-formed string and refuses a lone surrogate, short or long', () => {
    // Any UTF-16 code unit, halves of surrogate pairs often: fast-check's own units are well formed.
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
      fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'é', 'a'),
    );
    const strings = fc.oneof(fc.string({ unit, maxLength: 70 }), fc.string({ unit, minLength: 60, maxLength: 300 }));
    fc.assert(
      fc.property(strings, (text) => {
        const bytes = written({ text });
        expect(bytes !== undefined, JSON.stringify(text)).toBe(text.isWellFormed());
        if (bytes !== undefined) expect(decoded(bytes)).toEqual({ text });
      }),
      { numRuns: 1000 },
    );
  });

  it("takes each string header's size from its bytes, not its characters", () => {
    // Lengths around each header's limit (31, 255, 65,535 bytes), in one-, two-, three- and
    // four-byte characters: a string of few characters can need a larger header than guessed.
    for (const unit of ['a', 'é', '€', '😀']) {
      for (const bytes of [0, 1, 31, 32, 33, 63, 64, 65, 190, 255, 256, 65_535, 65_536, 200_000]) {
        const text = unit.repeat(Math.max(0, Math.floor(bytes / Buffer.byteLength(unit))));
        expect(decoded(written([text, 'after'])!), `${unit} × ${text.length}`).toEqual([text, 'after']);
      }
    }
  });

  it('writes numbers at every boundary of their forms, -0 as 0, and refuses what JSON does not keep', () => {
    const boundaries = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, 2 ** 53 - 1, 2 ** 60];
    const numbers = [...boundaries, ...boundaries.map((n) => -n), -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -(2 ** 31), -(2 ** 31) - 1];
    const fractions = [0.5, -0.5, 1e-300, 5e-324, 1.7976931348623157e308, Math.PI];
    const all = [...numbers, ...fractions];
    const back = decoded(written(all)!) as number[];
    expect(back).toEqual(all.map((n) => (Object.is(n, -0) ? 0 : n)));
    expect(Object.is(back[all.indexOf(-0)], 0)).toBe(true);
    for (const refused of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expect(written([1, refused])).toBeUndefined();
  });

  it('writes lists and objects of every header size, and leaves objects of more than 65,535 keys to JSON', () => {
    for (const count of [0, 15, 16, 65_535, 65_536, 70_000]) {
      const list = Array.from({ length: count }, (_, i) => i % 300);
      expect(decoded(written(list)!)).toEqual(list);
    }
    for (const count of [0, 15, 16, 17, 65_535]) {
      const object = Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]));
      expect(decoded(written(object)!)).toEqual(object);
    }
    const tooWide = Object.fromEntries(Array.from({ length: 65_536 }, (_, i) => [`k${i}`, i]));
    expect(written(tooWide)).toBeUndefined();
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(decoded(written(bare)!)).toEqual({ a: 1 });
  });

  it('refuses what JSON converts or drops, at any depth past the last allowed', () => {
    class Point {
      x = 1;
    }
    const sparse = [1, , 3];
    const outside = [undefined, new Date(0), new Map(), new Set(), new Uint8Array(1), new Point(), sparse, 1n, Symbol('s'), () => 1];
    for (const value of outside) {
      expect(written([1, { inner: [value] }]), String(value)).toBeUndefined();
      expect(isJsonData([1, { inner: [value] }], 0)).toBe(false);
    }
    expect(written(JSON.parse('{"a": {"__proto__": 1}}'))).toBeUndefined();
    // Depth 0 is the value itself; at most 64 levels below it.
    const nested = (levels: number) => {
      let value: unknown = 'bottom';
      for (let i = 0; i < levels; i++) value = [value];
      return value;
    };
    expect(decoded(written(nested(64))!)).toEqual(nested(64));
    expect(written(nested(65))).toBeUndefined();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(written(cycle)).toBeUndefined();
  });

  it('writes values one after the other behind the bytes reserved, growing past its first buffer', () => {
    const values = Array.from({ length: 500 }, (_, i) => ({ id: i, text: 'x'.repeat(i * 40) }));
    const { bytes, ends } = packJsonEach(values, 8, 0)!;
    expect(bytes.length).toBe(ends.at(-1));
    expect(bytes.length).toBeGreaterThan(4 * 1024 * 1024);
    for (let i = 0; i < values.length; i++) expect(decoded(bytes.subarray(i === 0 ? 8 : ends[i - 1], ends[i]))).toEqual(values[i]);
    // Each result is a buffer of its own: the next one does not overwrite it.
    const first = packJsonEach(['first'], 0, 0)!.bytes;
    packJsonEach(['second'], 0, 0);
    expect(decoded(first)).toBe('first');
  });

  it('counts the depth from the one given, and lets a getter pack values of its own meanwhile', () => {
    expect(packJsonEach([[[1]]], 0, 63)).toBeUndefined();
    expect(packJsonEach([[1]], 0, 63)).toBeDefined();
    const inner: Buffer[] = [];
    const outer = {
      get packsToo() {
        inner.push(packJsonEach([{ inner: 'x'.repeat(100) }], 4, 0)!.bytes);
        return 'outer';
      },
    };
    const { bytes, ends } = packJsonEach([outer, 'after'], 0, 0)!;
    expect(decoded(bytes.subarray(0, ends[0]))).toEqual({ packsToo: 'outer' });
    expect(decoded(bytes.subarray(ends[0]))).toBe('after');
    expect(decoded(inner[0].subarray(4))).toEqual({ inner: 'x'.repeat(100) });
  });
});
