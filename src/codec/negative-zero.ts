/**
 * -0 inside msgpack. msgpackr writes every number that equals an unsigned integer as an integer, so
 * -0 (which equals 0) arrives as 0. inspect.ts finds each -0 in a value and encodes a copy in which
 * it is replaced by NEGATIVE_ZERO, which this extension writes in two bytes and reads back as -0.
 * Values without -0 (nearly all) are encoded as they are, at no cost.
 */
import { addExtension } from 'msgpackr';

/** Extension type byte; msgpackr's built-in extensions do not use it. */
const NEGATIVE_ZERO_EXTENSION = 0x5a;

class NegativeZero {}

/** Stands for -0 in a value about to be encoded. */
export const NEGATIVE_ZERO: object = Object.freeze(new NegativeZero());

const DATA = Buffer.from([0]);

let registered = false;

export function registerNegativeZeroExtension(): void {
  if (registered) return;
  registered = true;
  addExtension({ Class: NegativeZero, type: NEGATIVE_ZERO_EXTENSION, pack: () => DATA, unpack: () => -0 });
}

export function isNegativeZero(value: unknown): boolean {
  return value === 0 && 1 / value < 0;
}
