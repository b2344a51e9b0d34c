/**
 * A plain array sorted by a compare task: what crosses threads is a copy of its items, so the
 * workers sort their indices, and the order found is applied to the array itself, in place, keeping
 * every object's identity. `undefined` items and holes are set aside first and go last, without a
 * call of the compare task, as `Array.prototype.sort` does.
 */

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

/** `0, 1, …, count - 1` in shared memory: the indices a sort of `count` items orders. */
export function sharedIndices(count: number): Int32Array {
  const indices = new Int32Array(new SharedArrayBuffer(4 * count));
  for (let i = 0; i < count; i++) indices[i] = i;
  return indices;
}

/**
 * Writes `items` into `array` in the order of `indices`, then the `undefined` items, then leaves
 * holes where `array` had them (at the end), as `Array.prototype.sort` does.
 */
export function applyOrder<T>(array: T[], items: readonly unknown[], indices: Int32Array, undefineds: number): T[] {
  let k = 0;
  for (; k < indices.length; k++) array[k] = items[indices[k]] as T;
  for (const end = k + undefineds; k < end; k++) array[k] = undefined as T;
  for (; k < array.length; k++) delete array[k];
  return array;
}
