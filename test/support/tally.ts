/**
 * Exactly-once bookkeeping: one shared Int32 counter per item. Every thread that takes an item
 * adds 1 to its counter with Atomics.add, so at the end every counter must be exactly 1: a 0 is a
 * lost item, a 2 an item handed out twice.
 */

export function tallyBuffer(items: number): SharedArrayBuffer {
  return new SharedArrayBuffer(items * Int32Array.BYTES_PER_ELEMENT);
}

/** Thread side. A value outside the items is a corrupted entry, reported at once. */
export function recordTake(counts: Int32Array, item: number): void {
  if (!Number.isInteger(item) || item < 0 || item >= counts.length) {
    throw new Error(`took ${item}, which is not one of the ${counts.length} items`);
  }
  Atomics.add(counts, item, 1);
}

export interface TallyAnomalies {
  /** Items nobody took (the first few). */
  missing: number[];
  /** Items taken more than once (the first few), as `item×count`. */
  repeated: string[];
  missingCount: number;
  repeatedCount: number;
}

/** Main side, after every thread finished. Empty lists mean every item was taken exactly once. */
export function tallyAnomalies(counts: Int32Array, shown = 10): TallyAnomalies {
  const result: TallyAnomalies = { missing: [], repeated: [], missingCount: 0, repeatedCount: 0 };
  for (let item = 0; item < counts.length; item++) {
    const count = Atomics.load(counts, item);
    if (count === 0) {
      if (result.missingCount++ < shown) result.missing.push(item);
    } else if (count > 1) {
      if (result.repeatedCount++ < shown) result.repeated.push(`${item}×${count}`);
    }
  }
  return result;
}

export const NO_ANOMALIES: TallyAnomalies = { missing: [], repeated: [], missingCount: 0, repeatedCount: 0 };
