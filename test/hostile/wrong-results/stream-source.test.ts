// processor.stream() over a source that throws: the stream rethrew the source's error at once, and
// the results of the requests it had read and started were never delivered (50 read, 37 yielded).
// Now it reads no more, yields the outcome of every request it read, in its order, then rethrows
// the source's own error; an iterator that threw is not asked to return(), one the consumer leaves
// is asked once. A source whose next() breaks the protocol fails the stream the same way instead
// of spinning the event loop for ever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParallelProcessor, type ProcessingResult } from 'viscose';
import type * as Requests from '../../fixtures/requests.mjs';
import { type CountingSource, countingSource, drain, release } from '../../support/streams.js';

const module = new URL('../../fixtures/requests.mjs', import.meta.url);
const WINDOW = 16;

interface Request {
  id: number;
  hold?: Int32Array;
}

/**
 * Gives requests 0, 1, ... until its `failAt`-th next(), which throws `error` (the sync kind) or
 * rejects with it (the async kind). Before failing it releases `hold`, so that requests held until
 * then can only finish after the failure.
 */
function failingSource(kind: 'sync' | 'async', failAt: number, error: unknown, hold?: Int32Array): CountingSource<Request> {
  return countingSource(kind, (n): Request => {
    if (n === failAt) {
      if (hold !== undefined) release(hold);
      throw error;
    }
    return { id: n, hold };
  });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('stream() over a source that throws', () => {
  let processor: ParallelProcessor<typeof Requests, 'handle'>;
  beforeAll(async () => {
    processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      maxPendingTasks: WINDOW,
    });
  });
  afterAll(() => processor.close());

  describe.each(['input', 'completion'] as const)('in %s order', (order) => {
    /** The indices yielded: in input order exactly 0..n-1; in completion order each once. */
    const expectEveryIndexOnce = (results: ProcessingResult<unknown>[], n: number) => {
      const indices = results.map((result) => result.index);
      expect(order === 'input' ? indices : [...indices].sort((a, b) => a - b)).toEqual(range(n));
    };

    describe.each(['sync', 'async'] as const)('from a %s iterator', (kind) => {
      it('yields every request it had started, then rethrows the source’s error', async () => {
        // Ten requests are held in the workers when the source throws: none has a result yet.
        const hold = new Int32Array(new SharedArrayBuffer(4));
        const boom = new Error('the source broke');
        const source = failingSource(kind, 10, boom, hold);
        const { results, error } = await drain(processor.stream(source.iterable, { order }));
        expect(error).toBe(boom);
        expectEveryIndexOnce(results, 10);
        expect(results.every((result) => result.ok)).toBe(true);
        expect(source.nexts).toBe(11); // not asked again after it threw
        expect(source.returns).toBe(0); // an iterator that threw is done
      });

      it('loses nothing when the source throws after more requests than the window', async () => {
        const boom = new Error('the source broke after 50');
        const source = failingSource(kind, 50, boom);
        const { results, error } = await drain(processor.stream(source.iterable, { order }));
        expect(error).toBe(boom);
        expectEveryIndexOnce(results, 50);
        for (const result of results) {
          expect(result).toMatchObject({ ok: true, value: { id: result.index, doubled: 2 * result.index } });
        }
        expect(source.nexts).toBe(51);
        expect(source.returns).toBe(0);
      });

      it('rethrows at once when the source throws before its first request', async () => {
        const boom = { not: 'even an Error' };
        const source = failingSource(kind, 0, boom);
        const { results, error } = await drain(processor.stream(source.iterable, { order }));
        expect(error).toBe(boom);
        expect(results).toEqual([]);
        expect(source.nexts).toBe(1);
      });
    });

    it('over an async generator that throws: every request read is yielded, then its error', async () => {
      const boom = new Error('the generator broke');
      let read = 0;
      async function* requests() {
        for (; read < 30; read++) yield { id: read };
        throw boom;
      }
      const { results, error } = await drain(processor.stream(requests(), { order }));
      expect(error).toBe(boom);
      expectEveryIndexOnce(results, 30);
    });

    it('over a source whose next() gives no iterator result: every request read, then a TypeError', async () => {
      let nexts = 0;
      const broken = {
        [Symbol.iterator]: () => ({ next: () => (nexts++ < 20 ? { done: false, value: { id: nexts } } : undefined) }),
      } as unknown as Iterable<Request>;
      const { results, error } = await drain(processor.stream(broken, { order }));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('not an iterator result');
      expectEveryIndexOnce(results, 20);
      expect(nexts).toBe(21);
    });

    it('asks the source to return() once, and reads no more, when the consumer leaves early', async () => {
      const source = failingSource('sync', Infinity, undefined);
      let seen = 0;
      for await (const result of processor.stream(source.iterable, { order })) {
        expect(result.ok).toBe(true);
        if (++seen === 5) break;
      }
      expect(source.returns).toBe(1);
      const readWhenLeft = source.nexts;
      expect(readWhenLeft).toBeLessThanOrEqual(5 + WINDOW);
      // Nothing reads it after the consumer left: a round trip through the pool later, still none.
      await processor.process({ id: 0 });
      expect(source.nexts).toBe(readWhenLeft);
    });
  });
});
