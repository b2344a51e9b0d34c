/**
 * The processor's stream: reads requests from a source while fewer than `window` are in flight or
 * waiting to be yielded, starts each one, and yields the results in input order or in completion
 * order. It reads the source and waits for results at the same time, so a slow source does not
 * hold back results, and a slow consumer does not let results pile up: with `window` entries
 * unyielded it reads nothing more.
 */
import type { Priority } from '../queue/priority.js';

export interface StreamOptions {
  /** `'high'`, `'normal'` (default) or `'low'`. */
  priority?: Priority;
  /** Aborting it cancels the requests in flight; the stream yields them as `cancelled` failures. */
  signal?: AbortSignal;
  /** Milliseconds each request's handler may run (RequestOptions `timeout`). */
  timeout?: number;
  /** `'input'` (default): results in the order of the requests; `'completion'`: as they finish. */
  order?: 'input' | 'completion';
}

interface Entry<R> {
  done: boolean;
  result?: R;
  /** `start` itself failed (a bug, not a failed request): the stream throws it when it gets here. */
  failure?: { error: unknown };
}

export async function* orderedResults<Q, R>(
  source: AsyncIterable<Q> | Iterable<Q>,
  order: 'input' | 'completion',
  window: number,
  start: (request: Q, index: number) => Promise<R>,
): AsyncGenerator<R, void, undefined> {
  const iterator = iteratorOf(source);
  /** Started and not yet yielded, in input order (order 'input' only). */
  const started: Entry<R>[] = [];
  /** Finished and not yet yielded, in completion order (order 'completion' only). */
  const finished: Entry<R>[] = [];
  /** Started and not yet yielded. */
  let unyielded = 0;
  let next = 0;
  let exhausted = false;
  let reading: Promise<IteratorResult<Q>> | undefined;
  let progress = signal();
  try {
    for (;;) {
      const ready = order === 'input' ? started : finished;
      while (ready.length > 0 && ready[0].done) {
        const entry = ready.shift()!;
        unyielded--;
        if (entry.failure !== undefined) throw entry.failure.error;
        yield entry.result as R;
      }
      if (exhausted && unyielded === 0) return;
      if (!exhausted && reading === undefined && unyielded < window) reading = Promise.resolve(iterator.next());
      if (progress.fired) progress = signal();
      const read = await (reading === undefined ? progress.promise : Promise.race([reading, progress.promise]));
      if (read === undefined) continue; // a request finished
      reading = undefined;
      if (read.done) {
        exhausted = true;
        continue;
      }
      const entry: Entry<R> = { done: false };
      if (order === 'input') started.push(entry);
      unyielded++;
      const settle = (outcome: Partial<Entry<R>>) => {
        Object.assign(entry, outcome, { done: true });
        if (order === 'completion') finished.push(entry);
        progress.fire();
      };
      start(read.value, next++).then(
        (result) => settle({ result }),
        (error: unknown) => settle({ failure: { error } }),
      );
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}

/** A promise that one call of `fire` resolves (with undefined, unlike a read of the source). */
function signal(): { promise: Promise<undefined>; fire(): void; fired: boolean } {
  let resolve!: (value: undefined) => void;
  const state = {
    promise: new Promise<undefined>((r) => (resolve = r)),
    fired: false,
    fire() {
      state.fired = true;
      resolve(undefined);
    },
  };
  return state;
}

function iteratorOf<Q>(source: AsyncIterable<Q> | Iterable<Q>): AsyncIterator<Q> | Iterator<Q> {
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  if (source !== null && typeof source === 'object' && Symbol.iterator in source) return source[Symbol.iterator]();
  throw new TypeError('stream() needs an async iterable (a Node Readable in object mode, say) or an iterable of requests');
}
