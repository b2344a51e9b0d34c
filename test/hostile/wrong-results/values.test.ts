// Values that changed on the way: boxed primitives arrived as `{}` or `{0: 's'}` (a boxed false
// truthy), a generator as `{}`, -0 as 0 everywhere but a lone scalar in `run`, a Float16Array failed
// in the decoder, and an object of more than 65,535 keys failed in `run` but not in `runBatch`.
// Now each value crosses faithfully, through `run` and `runBatch`, as an argument and as a result,
// or is refused with an EncodeError naming its path (in the worker, for a result: the TaskError's
// cause).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncodeError, TaskError, ThreadPool } from 'viscose';
import type * as Values from '../../fixtures/values.mjs';
import { sample } from '../../fixtures/values.mjs';
import { WAYS, crossings } from '../../support/crossings.js';

const module = new URL('../../fixtures/values.mjs', import.meta.url);

let pool: ThreadPool<typeof Values>;
beforeAll(async () => {
  pool = await ThreadPool.create<typeof Values>({ module, threads: 2 });
});
afterAll(() => pool.close());
const { sent, returned } = crossings(() => pool);

const isNegativeZero = (value: unknown) => Object.is(value, -0);

describe.each(WAYS)('through %s', (way) => {
  const argumentPath = way === 'run' ? 'args[0]' : 'argsList[1][0]';

  describe.each([
    ['argument', (kind: string) => sent(way, sample(kind))],
    ['result', (kind: string) => returned(way, kind)],
  ])('as an %s', (_, through) => {
    it('boxed primitives stay boxed, with their values', async () => {
      const number = await through('boxedNumber');
      expect(number).toBeInstanceOf(Number);
      expect(isNegativeZero((number as number).valueOf())).toBe(true);
      const string = await through('boxedString');
      expect(string).toBeInstanceOf(String);
      expect(String(string)).toBe('s');
      const boolean = await through('boxedBoolean');
      expect(boolean).toBeInstanceOf(Boolean);
      expect((boolean as boolean).valueOf()).toBe(false);
      const bigint = await through('boxedBigInt');
      expect(typeof bigint).toBe('object');
      expect((bigint as bigint).valueOf()).toBe(-(2n ** 70n));
    });

    it('-0 stays -0 nested in arrays, objects, Maps and Errors', async () => {
      const nested = (await through('negativeZeroNested')) as { zero: number; list: number[]; deeper: { map: Map<string, number> } };
      expect(isNegativeZero(nested.zero)).toBe(true);
      expect(nested.list[0]).toBe(1);
      expect(isNegativeZero(nested.list[1])).toBe(true);
      expect(isNegativeZero(nested.deeper.map.get('z'))).toBe(true);
      const error = (await through('negativeZeroInError')) as RangeError & { code: number };
      expect(error).toBeInstanceOf(RangeError);
      expect(isNegativeZero(error.cause) && isNegativeZero(error.code)).toBe(true);
    });

    it.skipIf(!('Float16Array' in globalThis))('a Float16Array comes back as a Float16Array (where the runtime has one)', async () => {
      const out = (await through('float16Array')) as ArrayLike<number>;
      expect(Object.prototype.toString.call(out)).toBe('[object Float16Array]');
      expect([...Array.from(out)].map((x) => (Object.is(x, -0) ? '-0' : x))).toEqual([1.5, '-0', 65504]);
    });

    it("what a class's toJSON returns crosses faithfully: a Map, -0, a boxed number", async () => {
      const out = (await through('toJSONWithMap')) as { reading: { values: Map<string, number>; boxed: number } };
      expect(out.reading.values).toBeInstanceOf(Map);
      expect(isNegativeZero(out.reading.values.get('zero'))).toBe(true);
      expect(out.reading.boxed).toBeInstanceOf(Number);
      expect(out.reading.boxed.valueOf()).toBe(7);
    });

    it('an object of 70,000 keys comes back whole', async () => {
      const out = (await through('manyKeys')) as Record<string, number>;
      expect(Object.keys(out).length).toBe(70_000);
      expect(out.k69999).toBe(69_999);
    });
  });

  it('-0 as a lone argument, in a list with a string, and in a returned list', async () => {
    expect(isNegativeZero(await sent(way, -0))).toBe(true);
    const mixed = way === 'run' ? await pool.run('echo', [-0, 'x']) : (await pool.runBatch('echo', [[[-0, 'x']]]))[0];
    expect(isNegativeZero((mixed as unknown[])[0])).toBe(true);
    const list = (
      way === 'run' ? await pool.run('makeInList', 'number') : (await pool.runBatch('makeInList', [['number']]))[0]
    ) as unknown[];
    expect(isNegativeZero(list[1])).toBe(true);
  });

  describe.each([
    ['generator', '.numbers'],
    ['asyncGenerator', '.numbers'],
    ['iterator', '.entries'],
    ['boxedSymbol', '.tag'],
    ['toJSONWithFunction', '.handle.toJSON().close'],
    ['toJSONThrows', '.broken'],
  ])('a %s', (kind, suffix) => {
    it('is refused as an argument before it is queued, naming the path', async () => {
      const call = sent(way, sample(kind));
      await expect(call).rejects.toBeInstanceOf(EncodeError);
      await expect(call).rejects.toMatchObject({ path: argumentPath + suffix });
    });

    it('fails its task as a result, naming the path', async () => {
      const call = returned(way, kind);
      await expect(call).rejects.toBeInstanceOf(TaskError);
      const cause = await call.catch((error: TaskError) => error.cause);
      // The worker reduces an encoding failure to name, message, stack, code and path; the message
      // starts with the path.
      expect(cause).toMatchObject({ code: 'VISCOSE_UNENCODABLE', name: 'EncodeError' });
      const escaped = suffix.replace(/[.()[\]]/g, '\\$&');
      expect((cause as Error).message).toMatch(new RegExp(`^result(\\[\\d+\\])?${escaped} cannot be sent`));
      expect((cause as { path: string }).path).toMatch(new RegExp(`^result(\\[\\d+\\])?${escaped}$`));
    });
  });
});
