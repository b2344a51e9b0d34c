/**
 * A plain array sorted by a compare task: what crosses threads is a copy of its items, so the
 * workers sort their indices, and the order found is applied to the array itself, in place, keeping
 * every object's identity. `undefined` items and holes are set aside first and go last, without a
 * call of the compare task, as `Array.prototype.sort` does.
 */
import { type AnyNumericArray, anyKind } from './sortable.js';

/** The items `Array.prototype.sort` compares (neither holes nor `undefined`), and how many are `undefined`. */
export function comparableItems(array: readonly unknown[]): { items: unknown[]; undefineds: number } {
  const items: unknown[] = [];
  let undefineds = 0;
  for (let i = 0; i < array.length; i++) {
    if (!(i in array)) continue;
    const item = array[i];
    if (item === undefined) undefineds++;
    else items.push(item);
  }
  return { items, undefineds };
}

/** An `Int32Array` of no items: what the indices of a plain array's sort are like. */
export const INDEX_KIND = anyKind(new Int32Array(0));

/** Writes `0, 1, …, n - 1` into `indices`: the order of a plain array's sort before it runs. */
export function numberIndices(indices: AnyNumericArray): void {
  for (let i = 0; i < indices.length; i++) indices[i] = i;
}

/**
 * Writes `items` into `array` in the order of `indices`, then the `undefined` items, then leaves
 * holes where `array` had them (at the end), as `Array.prototype.sort` does.
 */
export function applyOrder<T>(array: T[], items: readonly unknown[], indices: AnyNumericArray, undefineds: number): T[] {
  let k = 0;
  for (; k < indices.length; k++) array[k] = items[indices[k] as number] as T;
  for (const end = k + undefineds; k < end; k++) array[k] = undefined as T;
  for (; k < array.length; k++) delete array[k];
  return array;
}
