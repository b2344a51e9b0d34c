// processor.stream() over an endless source after the processor is closed or terminated: the
// stream went on reading the source, each request failing at once (about 130,000 a second), until
// the consumer broke out. Now it stops reading at close() or terminate() (of the processor, or of
// its pool), asks the source to return(), yields the outcome of every request it had read, and
// throws a PoolClosedError. Requests are held in the workers (shared memory) while the processor
// stops, so what was in flight is known exactly.
import { describe, expect, it } from 'vitest';
import { AbortError, ParallelProcessor, PoolClosedError } from 'viscose';
import type * as Requests from '../../fixtures/requests.mjs';
import { type CountingSource, countingSource, drain, release } from '../../support/streams.js';

const module = new URL('../../fixtures/requests.mjs', import.meta.url);
const WINDOW = 4;
/** Results a test takes from a stream before it gives up on it ending. */
const LIMIT = 2000;

type Processor = ParallelProcessor<typeof Requests, 'handle'>;

interface Request {
  id: number;
  hold?: Int32Array;
}

/** An endless source that counts the calls made to it. */
interface EndlessSource extends CountingSource<Request> {
  /** Resolves once `WINDOW` requests were read. */
  windowRead: Promise<void>;
}

function endlessSource(kind: 'sync' | 'async', hold: Int32Array): EndlessSource {
  let windowRead!: () => void;
  const windowReached = new Promise<void>((resolve) => (windowRead = resolve));
  const source = countingSource(kind, (n): Request => {
    if (n + 1 === WINDOW) windowRead();
    return { id: n, hold };
  });
  return Object.assign(source, { windowRead: windowReached });
}

function shared(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

function create(): Promise<Processor> {
  return ParallelProcessor.create<typeof Requests, 'handle'>({ module, handler: 'handle', threads: 2, maxPendingTasks: WINDOW });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** How each way of stopping ends the requests in flight (held in the workers when it happens). */
const STOPS = [
  { name: 'processor.close()', stop: (p: Processor) => p.close(), inFlight: 'ok', byProcessor: true },
  { name: 'processor.terminate()', stop: (p: Processor) => p.terminate(), inFlight: 'cancelled', byProcessor: true },
  { name: 'processor.pool.close()', stop: (p: Processor) => p.pool.close(), inFlight: 'ok', byProcessor: false },
  { name: 'processor.pool.terminate()', stop: (p: Processor) => p.pool.terminate(), inFlight: 'cancelled', byProcessor: false },
] as const;

describe.each(STOPS)('stream() over an endless source, then $name', ({ stop, inFlight, byProcessor }) => {
  describe.each(['input', 'completion'] as const)('in %s order', (order) => {
    it.each(['sync', 'async'] as const)('from a %s iterator: stops reading, yields what it read, throws PoolClosedError', async (kind) => {
      const processor = await create();
      try {
        const hold = shared();
        const source = endlessSource(kind, hold);
        const consumed = drain(processor.stream(source.iterable, { order }), LIMIT);
        // The window is full and every request in it is held in the pool: the stream waits. (The
        // last one is admitted in a microtask after it was read; a macrotask comes after those.)
        await source.windowRead;
        await new Promise((resolve) => setTimeout(resolve, 0));
        expect(processor.statistics().requests.inFlight).toBe(WINDOW);
        const stopping = stop(processor);
        const readAtStop = source.nexts;
        release(hold);
        const { results, error } = await consumed;
        await stopping;

        expect(readAtStop).toBe(WINDOW);
        // The processor knows it stopped at once; a pool closed under it shows in the first
        // request it refuses, and by then at most a window more was read.
        if (byProcessor) expect(source.nexts).toBe(readAtStop);
        else expect(source.nexts - readAtStop).toBeLessThanOrEqual(WINDOW);
        expect(error).toBeInstanceOf(PoolClosedError);
        expect(source.returns).toBe(1);
        const indices = results.map((result) => result.index);
        expect(order === 'input' ? indices : [...indices].sort((a, b) => a - b)).toEqual(range(source.nexts));
        for (const result of results.filter((result) => result.index < WINDOW)) {
          expect(result.ok ? 'ok' : result.error.kind).toBe(inFlight);
        }
        for (const result of results.filter((result) => result.index >= WINDOW)) {
          expect(result.ok ? 'ok' : result.error.kind).toBe('cancelled');
        }
      } finally {
        await processor.terminate();
      }
    });
  });
});

// Aborting the stream's own signal cancelled the requests in flight, but the stream went on reading
// an endless source, each request failing as cancelled. Now an abort stops it like a close does,
// and it throws an AbortError.
describe.each(['input', 'completion'] as const)('stream() over an endless source whose signal is aborted, in %s order', (order) => {
  it.each(['sync', 'async'] as const)(
    'from a %s iterator: stops reading, yields what it read as cancelled, throws AbortError',
    async (kind) => {
      const processor = await create();
      try {
        const hold = shared();
        const source = endlessSource(kind, hold);
        const controller = new AbortController();
        const consumed = drain(processor.stream(source.iterable, { order, signal: controller.signal }), LIMIT);
        await source.windowRead;
        await new Promise((resolve) => setTimeout(resolve, 0));
        const reason = new Error('enough');
        controller.abort(reason);
        const readAtAbort = source.nexts;
        release(hold);
        const { results, error } = await consumed;

        expect(readAtAbort).toBe(WINDOW);
        expect(source.nexts).toBe(readAtAbort);
        expect(error).toBeInstanceOf(AbortError);
        expect((error as Error).cause).toBe(reason);
        expect(source.returns).toBe(1);
        expect(results.map((result) => result.index).sort((a, b) => a - b)).toEqual(range(WINDOW));
        for (const result of results) expect(result.ok ? 'ok' : result.error.kind).toBe('cancelled');
        // The processor itself goes on.
        expect(await processor.process({ id: 7 })).toEqual({ id: 7, doubled: 14 });
      } finally {
        await processor.terminate();
      }
    },
  );

  it('with a signal aborted already: throws AbortError without reading the source', async () => {
    const processor = await create();
    try {
      const source = endlessSource('sync', shared());
      const { results, error } = await drain(processor.stream(source.iterable, { order, signal: AbortSignal.abort() }), LIMIT);
      expect(error).toBeInstanceOf(AbortError);
      expect(results).toEqual([]);
      expect(source.nexts).toBe(0);
      expect(source.returns).toBe(1);
    } finally {
      await processor.terminate();
    }
  });
});

describe('stream() and a processor that stops', () => {
  it('on a processor closed already: throws PoolClosedError without reading the source', async () => {
    const processor = await create();
    await processor.close();
    const source = endlessSource('sync', shared());
    const { results, error } = await drain(processor.stream(source.iterable), LIMIT);
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as Error).message).toContain('the processor was closed');
    expect(results).toEqual([]);
    expect(source.nexts).toBe(0);
    expect(source.returns).toBe(1);
  });

  it('a read under way at close() is awaited, and what it delivers is yielded as a failure', async () => {
    const processor = await create();
    try {
      let nexts = 0;
      let returns = 0;
      let firstRead!: () => void;
      const reading = new Promise<void>((resolve) => (firstRead = resolve));
      let deliver!: (result: IteratorResult<Request>) => void;
      const iterable: AsyncIterable<Request> = {
        [Symbol.asyncIterator]: () => ({
          // The first read waits until the test delivers; any later one would get a request at once.
          next: () => {
            if (nexts++ > 0) return Promise.resolve({ done: false, value: { id: nexts } });
            firstRead();
            return new Promise((resolve) => (deliver = resolve));
          },
          return: async () => {
            returns++;
            return { done: true, value: undefined };
          },
        }),
      };
      const consumed = drain(processor.stream(iterable), LIMIT);
      await reading;
      const closing = processor.close();
      deliver({ done: false, value: { id: 0 } });
      const { results, error } = await consumed;
      await closing;
      expect(error).toBeInstanceOf(PoolClosedError);
      expect(nexts).toBe(1);
      expect(returns).toBe(1);
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ ok: false, index: 0, error: { kind: 'thread-pool-error' } });
    } finally {
      await processor.terminate();
    }
  });

  it('a read waiting for input when the processor closes: return() ends it, and the stream ends', { timeout: 20_000 }, async () => {
    const processor = await create();
    try {
      let nexts = 0;
      let returns = 0;
      let firstRead!: () => void;
      const reading = new Promise<void>((resolve) => (firstRead = resolve));
      let answer!: (result: IteratorResult<Request>) => void;
      // Like a socket's messages: next() waits for input, and return() ends the wait.
      const iterable: AsyncIterable<Request> = {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            nexts++;
            firstRead();
            return new Promise((resolve) => (answer = resolve));
          },
          return: async () => {
            returns++;
            answer({ done: true, value: undefined });
            return { done: true, value: undefined };
          },
        }),
      };
      const consumed = drain(processor.stream(iterable), LIMIT);
      await reading;
      await processor.close();
      const { results, error } = await consumed;
      expect(error).toBeInstanceOf(PoolClosedError);
      expect(results).toEqual([]);
      expect(nexts).toBe(1);
      expect(returns).toBe(1);
    } finally {
      await processor.terminate();
    }
  });

  it('ends normally when it had read the source to its end before the processor closed', async () => {
    const processor = await create();
    try {
      const hold = shared();
      // One fewer than the window, so that the stream reads on to the end while all are held.
      const requests = range(WINDOW - 1).map((id) => ({ id, hold }));
      let ended!: () => void;
      const readToEnd = new Promise<void>((resolve) => (ended = resolve));
      const source = {
        *[Symbol.iterator]() {
          yield* requests;
          ended();
        },
      };
      const consumed = drain(processor.stream(source), LIMIT);
      await readToEnd;
      // The stream sees the end a few microtasks after the source gave it; a macrotask is later.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const closing = processor.close();
      release(hold);
      const { results, error } = await consumed;
      await closing;
      expect(error).toBeUndefined();
      expect(results.map((result) => result.ok && result.index)).toEqual(range(WINDOW - 1));
    } finally {
      await processor.terminate();
    }
  });
});
