// The scalar fast path: exact values, and integers that reach task code as small integers.
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { readScalars, scalarTags, writeScalars } from '../../src/codec/scalars.js';

// %IsSmi tells whether V8 holds a number as a small integer rather than as a double.
v8.setFlagsFromString('--allow-natives-syntax');
const isSmallInteger = new Function('value', 'return %IsSmi(value)') as (value: unknown) => boolean;

function roundTrip(values: unknown[]): unknown[] {
  const f64 = new Float64Array(values.length);
  const tags = scalarTags(values);
  writeScalars(f64, 0, values);
  return readScalars(f64, 0, tags, values.length);
}

describe('scalar payloads', () => {
  it('round-trip every scalar exactly, -0 and NaN included', () => {
    const values = [0, -0, 1.5, -7, NaN, Infinity, 2 ** 53, true, false, null, undefined];
    expect(roundTrip(values.slice(0, 8))).toEqual(values.slice(0, 8));
    expect(Object.is(roundTrip([-0])[0], -0)).toBe(true);
    expect(roundTrip(values.slice(8))).toEqual(values.slice(8));
  });

  it('deliver integers as small integers, not doubles, so that integer code stays integer code', () => {
    const [thirty, negative, zero, half, minusZero] = roundTrip([30, -5, 0, 0.5, -0]);
    expect(isSmallInteger(thirty)).toBe(true);
    expect(isSmallInteger(negative)).toBe(true);
    expect(isSmallInteger(zero)).toBe(true);
    expect(isSmallInteger(half)).toBe(false);
    expect(isSmallInteger(minusZero)).toBe(false);
  });

  it('refuse lists that do not fit the fast path', () => {
    expect(scalarTags(Array.from({ length: 9 }, () => 1))).toBe(-1);
    expect(scalarTags(['text'])).toBe(-1);
    expect(scalarTags([{}])).toBe(-1);
  });
});
