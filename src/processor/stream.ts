/**
 * The processor's stream: reads requests from a source while fewer than `window` are in flight or
 * waiting to be yielded, starts each one, and yields the results in input order or in completion
 * order. It reads the source and waits for results at the same time, so a slow source does not
 * hold back results, and a slow consumer does not let results pile up: with `window` entries
 * unyielded it reads nothing more.
 *
 * No request read is ever lost: when the source ends, throws, the processor stops or the stream's
 * signal is aborted, the stream reads nothing more, yields the outcome of every request it read,
 * and only then ends (or throws the source's error, the processor's PoolClosedError, or an
 * AbortError).
 */
import { AbortError, PoolClosedError } from '../errors.js';
import type { OptionTable } from '../options/table.js';
import { oneOf } from '../options/validators.js';
import type { Priority } from '../queue/priority.js';
import { REQUEST_OPTIONS } from './options.js';

export interface StreamOptions {
  /** `'high'`, `'normal'` (default) or `'low'`. */
  priority?: Priority;
  /**
   * Aborting it stops the stream: it reads no more (the source's `return()` is called), the
   * requests in flight are cancelled and yielded as `cancelled` failures, then it throws an
   * AbortError whose `cause` is the signal's reason.
   */
  signal?: AbortSignal;
  /** Milliseconds each request's handler may run (RequestOptions `timeout`). */
  timeout?: number;
  /** `'input'` (default): results in the order of the requests; `'completion'`: as they finish. */
  order?: 'input' | 'completion';
  /** Called with each event the handlers of the stream's requests emit (RequestOptions `onEvent`). */
  onEvent?: (event: string, payload: unknown) => void;
}

export const STREAM_OPTIONS = {
  ...REQUEST_OPTIONS,
  order: { validate: oneOf<'input' | 'completion'>('input', 'completion'), default: 'input' },
} as const satisfies OptionTable<StreamOptions>;

/** What a stream needs of its processor. */
export interface StreamDriver<Q, R> {
  order: 'input' | 'completion';
  /** Requests started and not yet yielded, at most. */
  window: number;
  /** Starts the request at `index`; resolves with its result (a failed request is a result too). */
  start(request: Q, index: number): Promise<R>;
  /** Why the processor stopped taking requests (`'the processor was closed'`), once it has. */
  stopped(): string | undefined;
  /** The stream's own signal: aborting it stops the stream. */
  signal: AbortSignal | undefined;
  /** Has `wake` called when the processor stops, until `unwatch`. */
  watch(wake: () => void): void;
  unwatch(wake: () => void): void;
}

interface Entry<R> {
  done: boolean;
  result?: R;
  /** `start` itself failed (a bug, not a failed request): the stream throws it when it gets here. */
  failure?: { error: unknown };
}

/** Why the stream reads no more requests. */
type End = { kind: 'exhausted' } | { kind: 'source-failed'; error: unknown } | { kind: 'stopped'; reason: string } | { kind: 'aborted' };

/** What a wait for progress resolves with when a request finished or the processor stopped. */
const WOKEN = Symbol('woken');

export async function* orderedResults<Q, R>(
  source: AsyncIterable<Q> | Iterable<Q>,
  driver: StreamDriver<Q, R>,
): AsyncGenerator<R, void, undefined> {
  const { order, window, start } = driver;
  const iterator = iteratorOf(source);
  /** Started and not yet yielded, in input order (order 'input' only). */
  const started: Entry<R>[] = [];
  /** Finished and not yet yielded, in completion order (order 'completion' only). */
  const finished: Entry<R>[] = [];
  /** Started and not yet yielded. */
  let unyielded = 0;
  /** Requests read from the source. */
  let taken = 0;
  let end: End | undefined;
  let reading: Promise<IteratorResult<Q>> | undefined;
  /** The source's `return()`, once called because the processor stopped. */
  let returned: Promise<unknown> | undefined;
  let progress = signal();
  const wake = () => progress.fire();
  const abortSignal = driver.signal;
  abortSignal?.addEventListener('abort', wake);
  try {
    for (;;) {
      const ready = order === 'input' ? started : finished;
      while (ready.length > 0 && ready[0].done) {
        const entry = ready.shift()!;
        unyielded--;
        if (entry.failure !== undefined) throw entry.failure.error;
        yield entry.result as R;
      }
      const reason = end === undefined ? driver.stopped() : undefined;
      if (end === undefined && (reason !== undefined || abortSignal?.aborted === true)) {
        end = reason !== undefined ? { kind: 'stopped', reason } : { kind: 'aborted' };
        // The source may hold resources; a read under way still delivers (or ends) first.
        returned = closeQuietly(iterator);
      }
      if (end !== undefined && unyielded === 0 && reading === undefined) {
        await returned;
        if (end.kind === 'source-failed') throw end.error;
        if (end.kind === 'stopped')
          throw new PoolClosedError(`${end.reason}: stream() stopped reading its source after ${taken} requests, all of them yielded`);
        if (end.kind === 'aborted') throw new AbortError(abortSignal!.reason);
        return;
      }
      if (end === undefined && reading === undefined && unyielded < window) reading = nextOf(iterator);
      if (progress.fired) progress = signal();
      let read: IteratorResult<Q> | typeof WOKEN;
      // Watched only while waiting: a stream its consumer abandons at a yield is not kept alive.
      driver.watch(wake);
      try {
        read = await (reading === undefined ? progress.promise : Promise.race([reading, progress.promise]));
      } catch (error) {
        // Only a read rejects. An iterator that threw is done: it is not asked to return().
        reading = undefined;
        if (end === undefined) end = { kind: 'source-failed', error };
        continue;
      } finally {
        driver.unwatch(wake);
      }
      if (read === WOKEN) continue; // a request finished, or the processor stopped
      reading = undefined;
      if (read === null || typeof read !== 'object') {
        end ??= { kind: 'source-failed', error: new TypeError(`the source's next() gave ${String(read)}, not an iterator result object`) };
        continue;
      }
      if (read.done) {
        // After a stop, the end may be only the answer to return(): the stream still says it stopped.
        end ??= { kind: 'exhausted' };
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
      start(read.value, taken++).then(
        (result) => settle({ result }),
        (error: unknown) => settle({ failure: { error } }),
      );
    }
  } finally {
    abortSignal?.removeEventListener('abort', wake);
    // The consumer left early (or `start` failed): the source is not read to its end.
    if (end === undefined) await iterator.return?.();
  }
}

/** A promise that one call of `fire` resolves (with WOKEN, unlike a read of the source). */
function signal(): { promise: Promise<typeof WOKEN>; fire(): void; fired: boolean } {
  let resolve!: (value: typeof WOKEN) => void;
  const state = {
    promise: new Promise<typeof WOKEN>((r) => (resolve = r)),
    fired: false,
    fire() {
      state.fired = true;
      resolve(WOKEN);
    },
  };
  return state;
}

/** The iterator's next result; a synchronous throw becomes a rejection. */
function nextOf<Q>(iterator: AsyncIterator<Q> | Iterator<Q>): Promise<IteratorResult<Q>> {
  try {
    return Promise.resolve(iterator.next());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Calls the iterator's `return()`. The stream then ends with the processor's error, which wins
 * over one from `return()`, as the error of a loop's body wins over it in `for...of`.
 */
function closeQuietly(iterator: AsyncIterator<unknown> | Iterator<unknown>): Promise<unknown> {
  return new Promise((resolve) => resolve(iterator.return?.())).catch(() => undefined);
}

function iteratorOf<Q>(source: AsyncIterable<Q> | Iterable<Q>): AsyncIterator<Q> | Iterator<Q> {
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  if (source !== null && typeof source === 'object' && Symbol.iterator in source) return source[Symbol.iterator]();
  throw new TypeError('stream() needs an async iterable (a Node Readable in object mode, say) or an iterable of requests');
}
