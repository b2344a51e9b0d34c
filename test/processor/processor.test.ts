// ParallelProcessor: batches that stream through a small capacity, per-request failures, the
// backpressure modes, priorities, concurrent-batch turns, timeouts, crashes and termination.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, InvalidOptionError, ParallelProcessor, ProcessingError, UnknownTaskError } from 'viscose';
import type * as Requests from '../fixtures/requests.mjs';
import { rejection } from '../support/rejection.js';

const module = new URL('../fixtures/requests.mjs', import.meta.url);

type Processor = ParallelProcessor<typeof Requests, 'handle'>;

/** A shared ticket counter the worker already knows (announced by a first request), at 0. */
async function ticketCounter(processor: ParallelProcessor<typeof Requests, 'ticketed'>): Promise<Int32Array> {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  await processor.process({ id: -1, counter });
  counter[0] = 0;
  return counter;
}

function requests(count: number, failEvery = 0): { id: number; fail?: boolean }[] {
  return Array.from({ length: count }, (_, id) => (failEvery > 0 && id % failEvery === 0 ? { id, fail: true } : { id }));
}

describe('batches', () => {
  let processor: Processor;
  beforeAll(async () => {
    processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      maxPendingTasks: 10,
    });
  });
  afterAll(() => processor.close());

  it.each(['executeParallelBatch', 'executeChunkedParallel'] as const)(
    '%s: 1,000 requests through a capacity of 10, one result each, in order, failures kept to their request',
    async (method) => {
      const results = await processor[method](requests(1000, 97));
      expect(results).toHaveLength(1000);
      results.forEach((result, i) => {
        expect(result.index).toBe(i);
        if (i % 97 === 0) {
          expect(result.ok).toBe(false);
          const error = (result as { error: ProcessingError }).error;
          expect(error).toBeInstanceOf(ProcessingError);
          expect(error.kind).toBe('task-failed');
          expect(error.index).toBe(i);
          expect((error.cause as Error).message).toMatch(`request ${i} failed`);
        } else {
          expect(result).toEqual({ ok: true, value: { id: i, doubled: 2 * i }, index: i });
        }
      });
      // Nothing left holding capacity.
      expect(processor.statistics().requests.inFlight).toBe(0);
    },
  );

  it('handles an empty batch', async () => {
    expect(await processor.executeParallelBatch([])).toEqual([]);
    expect(await processor.executeChunkedParallel([])).toEqual([]);
  });

  it('keeps a request that cannot be sent to its own failure in a chunk', async () => {
    const batch = [{ id: 1 }, { id: 2, callback: () => 0 }, { id: 3 }] as unknown as { id: number }[];
    const results = await processor.executeChunkedParallel(batch);
    expect(results[0]).toEqual({ ok: true, value: { id: 1, doubled: 2 }, index: 0 });
    expect(results[1].ok).toBe(false);
    expect((results[1] as { error: ProcessingError }).error.kind).toBe('thread-pool-error');
    expect(results[2]).toEqual({ ok: true, value: { id: 3, doubled: 6 }, index: 2 });
  });
});

describe('single requests and backpressure', () => {
  it('process resolves with the response, or rejects with a ProcessingError', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({ module, handler: 'handle', threads: 1 });
    expect(await processor.process({ id: 21 })).toEqual({ id: 21, doubled: 42 });
    const error = await rejection(processor.process({ id: 4, fail: true }));
    expect(error).toBeInstanceOf(ProcessingError);
    expect(error.kind).toBe('task-failed');
  });

  it("in 'reject' mode, fails fast at capacity and loses nothing already accepted", async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      maxPendingTasks: 4,
      backpressure: 'reject',
    });
    const accepted = Array.from({ length: 4 }, (_, id) => processor.process({ id, spinMs: 30 }));
    expect(processor.needsDrain).toBe(true);
    const started = performance.now();
    const refused = await rejection(processor.process({ id: 99 }));
    expect(performance.now() - started).toBeLessThan(1000); // refused at once, not after the others
    expect(refused.kind).toBe('backpressure-exceeded');
    expect(processor.tryProcess({ id: 100 })).toBeUndefined();
    expect((await rejection(processor.executeParallelBatch([{ id: 5 }]))).kind).toBe('backpressure-exceeded');
    expect(await Promise.all(accepted)).toEqual([0, 1, 2, 3].map((id) => ({ id, doubled: 2 * id })));
    await processor.drain();
    expect(processor.needsDrain).toBe(false);
    expect(await processor.tryProcess({ id: 6 })).toEqual({ id: 6, doubled: 12 });
    const { requests: counts } = processor.statistics();
    expect(counts.completed).toBe(5);
    expect(counts.rejected).toBe(3);
    expect(counts.submitted).toBe(counts.completed + counts.failed + counts.rejected + counts.cancelled + counts.timedOut);
  });

  it("in 'wait' mode, a producer can wait for drain", async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      maxPendingTasks: 2,
    });
    const first = [processor.process({ id: 1, spinMs: 20 }), processor.process({ id: 2, spinMs: 20 })];
    expect(processor.needsDrain).toBe(true);
    await processor.drain();
    expect(processor.needsDrain).toBe(false);
    await Promise.all(first);
  });

  it('times out a request that waits for capacity longer than queueTimeout', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      maxPendingTasks: 1,
      queueTimeout: 20,
    });
    const running = processor.process({ id: 1, spinMs: 200 });
    const waiting = await rejection(processor.process({ id: 2 }));
    expect(waiting.kind).toBe('timed-out');
    expect(await running).toEqual({ id: 1, doubled: 2 });
    expect(processor.statistics().requests.timedOut).toBe(1);
    expect(await processor.process({ id: 3 })).toEqual({ id: 3, doubled: 6 });
  });

  it("reports a request whose worker died as 'worker-crashed', and keeps serving", async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      pool: { onError: () => {} },
    });
    const results = await processor.executeParallelBatch([{ id: 1 }, { id: 2, exit: true } as { id: number }, { id: 3 }]);
    expect(results[1].ok).toBe(false);
    expect((results[1] as { error: ProcessingError }).error.kind).toBe('worker-crashed');
    expect(results[0].ok && results[2].ok).toBe(true);
    expect(await processor.process({ id: 4 })).toEqual({ id: 4, doubled: 8 });
  });

  it('runs a request again after its worker crashed when retries are allowed, in every batch mode', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'crashOnce'>({
      module,
      handler: 'crashOnce',
      threads: 2,
      batchSize: 4,
      // A crash in a chunk costs each of its requests a retry, ran or not: one for the chunk,
      // one for the crash of its own first run.
      retries: 2,
      pool: { onError: () => {} },
    });
    const runs = new Int32Array(new SharedArrayBuffer(4 * 16));
    const batch = (ids: number[]) => ids.map((id) => ({ id, runs }));
    expect(await processor.process({ id: 0, runs })).toEqual({ id: 0 });
    const parallel = await processor.executeParallelBatch(batch([1, 2, 3]));
    const chunked = await processor.executeChunkedParallel(batch([4, 5, 6, 7, 8, 9]));
    expect([...parallel, ...chunked].map((result) => (result.ok ? result.value.id : result.error.message))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    // Each request ran once to crash and once to answer; the requests of a chunk cut short by the
    // crash of another were not run until their own retry.
    expect([...runs.subarray(0, 10)]).toEqual(Array(10).fill(2));
    const { requests } = processor.statistics();
    expect(requests).toMatchObject({ submitted: 10, completed: 10, failed: 0 });
    expect(requests.retried).toBeGreaterThanOrEqual(10);
  });

  it("fails with 'worker-crashed' once the retries are used up", async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      retries: 2,
      pool: { onError: () => {} },
    });
    const error = await rejection(processor.process({ id: 1, exit: true } as { id: number }));
    expect(error.kind).toBe('worker-crashed');
    expect(processor.statistics().requests).toMatchObject({ submitted: 1, failed: 1, retried: 2 });
  });

  it('cancels what waits when terminated', async () => {
    const processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      maxPendingTasks: 1,
    });
    const running = processor.process({ id: 1, spinMs: 100 });
    const waiting = processor.process({ id: 2 });
    await processor.terminate();
    expect((await rejection(waiting)).kind).toBe('cancelled');
    expect((await rejection(running)).kind).toBe('cancelled');
    expect(processor.statistics().requests.cancelled).toBe(2);
  });
});

describe('turns and priorities', () => {
  it('runs at most maxConcurrentBatches batches at once; the others wait their turn', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      maxConcurrentBatches: 1,
    });
    const finished: string[] = [];
    const first = processor
      .executeParallelBatch(Array.from({ length: 4 }, (_, id) => ({ id, spinMs: 20 })))
      .then(() => finished.push('first'));
    const second = processor.executeParallelBatch([{ id: 9 }]).then(() => finished.push('second'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(processor.statistics().batches).toMatchObject({ running: 1, waiting: 1 });
    await Promise.all([first, second]);
    expect(finished).toEqual(['first', 'second']);
  });

  it('admits waiting requests by priority, without starving the low ones', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'ticketed'>({
      module,
      handler: 'ticketed',
      threads: 1,
      maxPendingTasks: 1,
    });
    const counter = await ticketCounter(processor);
    // The one permit is held while ten low- and ten high-priority requests queue for it.
    const hold = processor.process({ id: 0, counter, spinMs: 50 });
    const low = Array.from({ length: 10 }, (_, id) => processor.process({ id, counter }, { priority: 'low' }));
    const high = Array.from({ length: 10 }, (_, id) => processor.process({ id: 100 + id, counter }, { priority: 'high' }));
    expect((await hold).ticket).toBe(0);
    const order: string[] = [];
    for (const { ticket } of await Promise.all(low)) order[ticket - 1] = 'low';
    for (const { ticket } of await Promise.all(high)) order[ticket - 1] = 'high';
    // High first, but a low request after at most STARVATION_BOUND (8) passes.
    expect(order.indexOf('low')).toBe(8);
    expect(order.filter((priority) => priority === 'high')).toHaveLength(10);
  });

  it('keeps low-priority requests progressing under a constant stream of high-priority ones', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'ticketed'>({
      module,
      handler: 'ticketed',
      threads: 1,
      maxPendingTasks: 1,
    });
    const counter = await ticketCounter(processor);
    const hold = processor.process({ id: 0, counter, spinMs: 30 });
    // Four producers each keep one high-priority request waiting at all times.
    let lowsDone = false;
    const highTickets: number[] = [];
    const producer = async (first: number) => {
      for (let id = first; !lowsDone; id += 4) highTickets.push((await processor.process({ id, counter }, { priority: 'high' })).ticket);
    };
    const producers = [1000, 1001, 1002, 1003].map(producer);
    const lows = Array.from({ length: 3 }, (_, id) => processor.process({ id, counter }, { priority: 'low' }));
    const lowTickets = (await Promise.all(lows)).map((result) => result.ticket);
    lowsDone = true;
    await Promise.all([hold, ...producers]);
    // Each low request waits for at most STARVATION_BOUND + 1 (9) high ones after the one before.
    for (const [k, ticket] of lowTickets.entries()) expect(ticket).toBeLessThanOrEqual(1 + 9 * (k + 1));
    expect(highTickets.filter((ticket) => ticket < lowTickets[2]).length).toBeGreaterThanOrEqual(3 * 8);
  });
});

describe('cancellation', () => {
  it('cancels a request waiting for capacity, and one running, when their signal aborts', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      maxPendingTasks: 1,
    });
    const controller = new AbortController();
    const running = processor.process({ id: 1, spinMs: 100 }, { signal: controller.signal });
    const waiting = processor.process({ id: 2 }, { signal: controller.signal });
    controller.abort(new Error('client went away'));
    const [first, second] = await Promise.all([rejection(running), rejection(waiting)]);
    expect(first).toMatchObject({ kind: 'cancelled' });
    expect(second).toMatchObject({ kind: 'cancelled' });
    expect(second.cause.message).toBe('client went away');
    expect(await processor.process({ id: 3 })).toEqual({ id: 3, doubled: 6 });
    const { requests } = processor.statistics();
    expect(requests).toMatchObject({ submitted: 3, completed: 1, cancelled: 2, inFlight: 0, waiting: 0 });
  });

  it('cancels what is left of a chunked batch, and a stream, keeping what finished', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      maxPendingTasks: 8,
      batchSize: 4,
    });
    const controller = new AbortController();
    const batch = processor.executeChunkedParallel(
      Array.from({ length: 64 }, (_, id) => ({ id, spinMs: 5 })),
      { signal: controller.signal },
    );
    // Abort once the first chunk is back.
    while (processor.statistics().requests.completed < 4) await new Promise((resolve) => setTimeout(resolve, 1));
    controller.abort();
    const results = await batch;
    const kinds = results.map((result) => (result.ok ? 'ok' : result.error.kind));
    expect(kinds).toContain('ok');
    expect(kinds).toContain('cancelled');
    expect(kinds.every((kind) => kind === 'ok' || kind === 'cancelled')).toBe(true);

    const streamController = new AbortController();
    const seen: string[] = [];
    const stream = processor.stream(
      Array.from({ length: 40 }, (_, id) => ({ id, spinMs: 2 })),
      { signal: streamController.signal },
    );
    const ended = await (async () => {
      for await (const result of stream) {
        seen.push(result.ok ? 'ok' : result.error.kind);
        if (seen.length === 5) streamController.abort();
      }
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    // The abort stops the stream: it reads no more, yields what it had read, and throws.
    expect(ended).toBeInstanceOf(AbortError);
    expect(seen.slice(0, 5).every((kind) => kind === 'ok')).toBe(true);
    // At most maxPendingTasks (8) more had been read: indices 5 to 12, finished or cancelled.
    expect(seen.length).toBeLessThanOrEqual(13);
    expect(seen.slice(5).every((kind) => kind === 'ok' || kind === 'cancelled')).toBe(true);
    const { requests } = processor.statistics();
    expect(requests.completed + requests.failed + requests.rejected + requests.cancelled + requests.timedOut).toBe(requests.submitted);
    expect(requests).toMatchObject({ inFlight: 0, waiting: 0 });
  });
});

describe('time limits', () => {
  it('fails a request whose handler runs past its time limit, counted from its start', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      timeout: 100,
    });
    const slow = processor.process({ id: 1, spinMs: 400 });
    // Queued behind the slow one for longer than the limit, then quick: its own run is what counts.
    const quick = processor.process({ id: 2 });
    expect(await rejection(slow)).toMatchObject({ kind: 'timed-out' });
    expect(await quick).toEqual({ id: 2, doubled: 4 });
    // A request's own limit overrides the processor's.
    expect(await processor.process({ id: 3, spinMs: 150 }, { timeout: 2_000 })).toEqual({ id: 3, doubled: 6 });
    expect(processor.statistics().requests).toMatchObject({ timedOut: 1, completed: 2 });
  });

  it('applies to each request of a chunked batch and of a stream', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      batchSize: 4,
    });
    const list = Array.from({ length: 8 }, (_, id) => (id === 5 ? { id, spinMs: 400 } : { id }));
    const chunked = await processor.executeChunkedParallel(list, { timeout: 100 });
    expect(chunked.map((result) => (result.ok ? 'ok' : result.error.kind))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'timed-out',
      'ok',
      'ok',
    ]);
    const kinds: string[] = [];
    for await (const result of processor.stream(list, { timeout: 100 })) kinds.push(result.ok ? 'ok' : result.error.kind);
    expect(kinds).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'timed-out', 'ok', 'ok']);
  });

  it('are checked', async () => {
    await expect(ParallelProcessor.create({ module, handler: 'handle', timeout: 0 })).rejects.toThrow(/timeout/);
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({ module, handler: 'handle', threads: 1 });
    expect(() => processor.process({ id: 1 }, { timeout: -5 })).toThrow(InvalidOptionError);
  });
});

describe('options', () => {
  it('are checked, naming the option', async () => {
    await expect(ParallelProcessor.create({ module, handler: '' })).rejects.toThrow(InvalidOptionError);
    await expect(ParallelProcessor.create({ module, handler: 'handle', batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(ParallelProcessor.create({ module, handler: 'handle', backpressure: 'drop' as never })).rejects.toThrow(/backpressure/);
    await expect(ParallelProcessor.create({ module, handler: 'handle', wrong: 1 } as never)).rejects.toThrow(/wrong/);
    await expect(ParallelProcessor.create({ module, handler: 'nope', threads: 1 })).rejects.toThrow(UnknownTaskError);
  });

  it('run on an elastic pool when `pool` sizes it, which `threads` would contradict', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      pool: { minThreads: 1, maxThreads: 2 },
    });
    expect(processor.threads).toBe(1);
    const results = await processor.executeParallelBatch(requests(200));
    expect(results.map((result) => (result.ok ? result.value.doubled : -1))).toEqual(requests(200).map(({ id }) => id * 2));
    await expect(
      ParallelProcessor.create({ module, handler: 'handle', threads: 2, pool: { minThreads: 1, maxThreads: 2 } }),
    ).rejects.toThrow(InvalidOptionError);
  });
});
