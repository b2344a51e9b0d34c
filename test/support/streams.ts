// Sources and consumers for the tests of processor.stream().

/**
 * A source that counts the calls made to it, built on the iterator protocol itself (not a
 * generator, which would hide `next()` and `return()` calls), sync or async.
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

/** Lets go of requests held on `hold` (test/fixtures/requests.mjs waits while its first word is 0). */
export function release(hold: Int32Array): void {
  Atomics.store(hold, 0, 1);
  Atomics.notify(hold, 0);
}

/**
 * Consumes a stream, up to `limit` results (a test's guard against one that never ends); returns
 * what it yielded and the error it ended with, if any.
 */
export async function drain<R>(stream: AsyncIterable<R>, limit = Infinity): Promise<{ results: R[]; error: unknown }> {
  const results: R[] = [];
  try {
    for await (const result of stream) {
      results.push(result);
      if (results.length === limit) break;
    }
  } catch (error) {
    return { results, error };
  }
  return { results, error: undefined };
}
