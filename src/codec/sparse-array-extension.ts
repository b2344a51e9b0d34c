/**
 * A msgpack extension for arrays with holes. msgpack has no hole: msgpackr writes every index up to
 * `length`, each hole as `undefined`, so `[, , 1]` arrived as `[undefined, undefined, 1]`, and an
 * array of length 2^26 holding one element took seconds and 200 MB to encode. inspect.ts replaces
 * each array with a hole by a SparseArray of its present elements, grouped in runs of consecutive
 * indices; it encodes in proportion to the elements present, and decodes to an array with the same
 * length and the same holes, as structuredClone gives.
 *
 * Encoded as `[length, start, values, start, values, ...]`: each run's first index, then its values.
 */
import { addExtension } from 'msgpackr';

/** Extension type byte; msgpackr's built-in extensions do not use it. */
const SPARSE_ARRAY_EXTENSION = 0x48;

/** Stands for an array with holes in a value about to be encoded. */
export class SparseArray {
  constructor(
    /** `[length, start, values, start, values, ...]`, the values already inspected. */
    readonly fields: unknown[],
  ) {}
}

function readSparseArray(fields: unknown[]): unknown[] {
  const array: unknown[] = [];
  array.length = fields[0] as number;
  for (let f = 1; f < fields.length; f += 2) {
    const start = fields[f] as number;
    const values = fields[f + 1] as unknown[];
    for (let i = 0; i < values.length; i++) array[start + i] = values[i];
  }
  return array;
}

let registered = false;

export function registerSparseArrayExtension(): void {
  if (registered) return;
  registered = true;
  addExtension({
    Class: SparseArray,
    type: SPARSE_ARRAY_EXTENSION,
    write: (sparse: SparseArray) => sparse.fields,
    read: readSparseArray,
  });
}
