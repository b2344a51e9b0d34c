/**
 * A source for `processor.stream()` that counts the calls made to it, built on the iterator
 * protocol itself (not a generator, which would hide `next()` and `return()` calls), sync or async.
 */
export interface CountingSource<T> {
  iterable: Iterable<T> | AsyncIterable<T>;
  /** `next()` calls so far. */
  nexts: number;
  /** `return()` calls so far. */
  returns: number;
}

/**
 * `produce(n)` gives the value of the n-th `next()` (from 0), or throws to fail the source there:
 * the sync kind then throws, the async kind rejects.
 */
export function countingSource<T>(kind: 'sync' | 'async', produce: (n: number) => T): CountingSource<T> {
  const counts: CountingSource<T> = { iterable: [], nexts: 0, returns: 0 };
  const step = (): IteratorResult<T> => ({ done: false, value: produce(counts.nexts++) });
  const ended = (): IteratorResult<T> => {
    counts.returns++;
    return { done: true, value: undefined };
  };
  counts.iterable =
    kind === 'sync'
      ? { [Symbol.iterator]: () => ({ next: step, return: ended }) }
      : { [Symbol.asyncIterator]: () => ({ next: async () => step(), return: async () => ended() }) };
  return counts;
}
