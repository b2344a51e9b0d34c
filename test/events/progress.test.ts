// Task events: `emit(event, payload)` in a task reaches the `onEvent` listener of the call it works
// for — from join halves other workers stole, scope spawns, parallel-iterator steps and
// asynchronous continuations — in order per worker, all before the call settles; nothing is sent
// without a listener; a flood past the bound is dropped (and `emit` says so); events after the call
// ended are dropped; a listener that throws goes to onError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncodeError, ParallelProcessor, TaskTimeoutError, ThreadPool, WorkerCrashedError } from 'viscose';
import { emit } from 'viscose/worker';
import type * as Tasks from '../fixtures/events.mjs';

const module = new URL('../fixtures/events.mjs', import.meta.url);
/** The bound of src/worker/task-events.ts. */
const MAX_UNDELIVERED = 1024;

type Numbered = { worker: number; seq: number };

/** A listener that records every event, and the events' payloads by name. */
function recorder() {
  const events: [string, unknown][] = [];
  return { events, onEvent: (event: string, payload: unknown) => void events.push([event, payload]) };
}

/** Checks that the events of each worker arrived in the order that worker emitted them. */
function expectInOrderPerWorker(payloads: Numbered[]): Set<number> {
  const last = new Map<number, number>();
  for (const { worker, seq } of payloads) {
    expect(seq).toBeGreaterThan(last.get(worker) ?? -1);
    last.set(worker, seq);
  }
  return new Set(last.keys());
}

describe('task events', () => {
  let pool: ThreadPool<typeof Tasks>;
  const errors: Error[] = [];

  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Tasks>({ module, threads: 4, maxPayloadBytes: 1 << 20, onError: (error) => errors.push(error) });
  });
  afterAll(() => pool.close());

  it('delivers every event, in order, before the call settles', async () => {
    const { events, onEvent } = recorder();
    const queued = await pool.with({ onEvent }).run('progress', 500);
    expect(queued).toBe(500);
    expect(events).toEqual(Array.from({ length: 500 }, (_, i) => ['step', i]));
  });

  it('carries payloads as results travel, and refuses one that cannot be sent', async () => {
    const { events, onEvent } = recorder();
    const payloads = [
      undefined,
      -0,
      2n ** 70n,
      'text',
      { nested: [1, { deep: true }] },
      new Map([['k', new Date(0)]]),
      new Float64Array([1.5]),
    ];
    expect(await pool.with({ onEvent }).run('emitEach', payloads)).toEqual(payloads.map(() => true));
    expect(events.map(([, payload]) => payload)).toEqual(payloads);
    expect(Object.is(events[1][1], -0)).toBe(true);
    const refused = await pool.with({ onEvent }).run('emitRefused', 'function');
    expect(refused).toMatchObject({ name: EncodeError.name, code: 'VISCOSE_UNENCODABLE' });
    expect((refused as { message: string }).message).toMatch(/^payload\.run cannot be sent/);
    expect(await pool.with({ onEvent }).run('emitRefused', 'large')).toMatchObject({ code: 'VISCOSE_PAYLOAD_TOO_LARGE' });
  });

  it('reaches the root call from join halves that other workers stole', async () => {
    const { events, onEvent } = recorder();
    // 16 leaves of 20 ms on 4 workers: the halves are stolen.
    const total = await pool.with({ onEvent }).run('joinEmitting', 4, 25, 20);
    expect(total).toBe(16 * 25);
    expect(events).toHaveLength(16 * 25);
    const payloads = events.map(([, payload]) => payload as Numbered & { leaf: number; i: number });
    expect(new Set(payloads.map(({ leaf, i }) => `${leaf}:${i}`)).size).toBe(16 * 25);
    expect(expectInOrderPerWorker(payloads).size).toBeGreaterThan(1);
  });

  it('reaches the root call from scope spawns and parallel-iterator steps', async () => {
    const spawned = recorder();
    expect(await pool.with({ onEvent: spawned.onEvent }).run('scopeEmitting', 12, 10)).toBe(12);
    // Order holds per worker only: a spawn stolen by another worker may be heard before the body,
    // whose event its own worker sent first (the per-worker order is checked below).
    expect(spawned.events.filter(([event]) => event === 'body')).toHaveLength(1);
    expect(
      spawned.events
        .filter(([event]) => event === 'spawn')
        .map(([, p]) => (p as { i: number }).i)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expectInOrderPerWorker(spawned.events.map(([, payload]) => payload as Numbered));

    // Fewer items than the bound: none is dropped even if one worker maps them all.
    const stepped = recorder();
    const doubled = await pool
      .with({ onEvent: stepped.onEvent })
      .parIter(Array.from({ length: 800 }, (_, i) => i))
      .map('emittingStep')
      .collect();
    expect(doubled).toEqual(Array.from({ length: 800 }, (_, i) => i * 2));
    const items = stepped.events.map(([, payload]) => payload as Numbered & { x: number });
    expect(items.map(({ x }) => x).sort((a, b) => a - b)).toEqual(Array.from({ length: 800 }, (_, i) => i));
    expectInOrderPerWorker(items);
  });

  it('reaches the listener of every call of a batch', async () => {
    const { events, onEvent } = recorder();
    const queued = await pool.with({ onEvent, chunkSize: 3 }).runBatch(
      'progress',
      Array.from({ length: 10 }, () => [5]),
    );
    expect(queued).toEqual(Array.from({ length: 10 }, () => 5));
    expect(events).toHaveLength(50);
  });

  it('sends nothing for a call without a listener, even while others listen', async () => {
    const { events, onEvent } = recorder();
    const [unheard, heard] = await Promise.all([pool.run('emitEach', [1, 2, 3]), pool.with({ onEvent }).run('emitEach', [4])]);
    expect(unheard).toEqual([false, false, false]);
    expect(heard).toEqual([true]);
    expect(events).toEqual([['value', 4]]);
  });

  it('is false outside a worker', () => {
    expect(emit('anything', 1)).toBe(false);
  });

  it('drops what passes the bound while the main thread is busy, and says so', async () => {
    const { events, onEvent } = recorder();
    const words = new Int32Array(new SharedArrayBuffer(4));
    const count = 5 * MAX_UNDELIVERED;
    const call = pool.with({ onEvent }).run('flood', count, words);
    // Busy until the task has emitted everything: no event is taken off the port meanwhile.
    const deadline = Date.now() + 30_000;
    while (Atomics.load(words, 0) === 0 && Date.now() < deadline);
    const dropped = await call;
    expect(dropped.length).toBe(count - MAX_UNDELIVERED);
    const droppedSet = new Set(dropped);
    const sent = Array.from({ length: count }, (_, i) => i).filter((i) => !droppedSet.has(i));
    expect(events.map(([, i]) => i)).toEqual(sent);
    // Once delivered, the room is back.
    expect(await pool.with({ onEvent }).run('progress', MAX_UNDELIVERED)).toBe(MAX_UNDELIVERED);
  });

  it('reports a listener that throws to onError, and delivers the later events', async () => {
    errors.length = 0;
    const seen: unknown[] = [];
    const boom = new Error('listener failed');
    const onEvent = (_event: string, i: unknown) => {
      seen.push(i);
      if (i === 3) throw boom;
    };
    expect(await pool.with({ onEvent }).run('progress', 6)).toBe(6);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(errors).toEqual([boom]);
  });

  it('delivers events of an asynchronous task, after its awaits and from a join it runs then', async () => {
    const { events, onEvent } = recorder();
    const sent = await pool.with({ onEvent }).run('asyncProgress', 3, 5);
    expect(sent).toEqual([true, true, true, true]);
    expect(events.slice(0, 3)).toEqual([
      ['tick', 0],
      ['tick', 1],
      ['tick', 2],
    ]);
    // The halves may have run on other workers: their events and 'done' keep no order among them.
    const rest = events
      .slice(3)
      .map(([event, payload]) => (event === 'leaf' ? [event, (payload as { leaf: number }).leaf] : [event, payload]));
    expect(rest.sort()).toEqual([
      ['done', 2],
      ['leaf', 100],
      ['leaf', 101],
    ]);
  });

  it.each(['lateSync', 'lateAsync'] as const)('drops the events %s emits after its call timed out', async (task) => {
    const { events, onEvent } = recorder();
    const words = new Int32Array(new SharedArrayBuffer(4));
    const late = pool.with({ onEvent, timeout: 100 });
    const call = task === 'lateSync' ? late.run('lateSync', words) : late.run('lateAsync', words, 300);
    await expect(call).rejects.toBeInstanceOf(TaskTimeoutError);
    const deadline = Date.now() + 10_000;
    while (Atomics.load(words, 0) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(Atomics.load(words, 0)).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual([['early', 1]]);
  });

  it('delivers each event of many concurrent calls to its own listener, exactly once', async () => {
    const calls = 40;
    const perHalf = 50;
    const received = Array.from({ length: calls }, () => [] as { id: number; half: number; i: number }[]);
    const results = await Promise.all(
      Array.from({ length: calls }, (_, id) =>
        pool
          .with({ onEvent: (_event, payload) => void received[id].push(payload as { id: number; half: number; i: number }) })
          .run('tagged', id, perHalf, 1),
      ),
    );
    let queued = 0;
    for (let id = 0; id < calls; id++) {
      const mine = received[id];
      expect(mine.every((event) => event.id === id)).toBe(true);
      for (const half of [0, 1]) {
        // One half runs on one worker: every event it queued arrives, in order, once.
        expect(mine.filter((event) => event.half === half).map((event) => event.i)).toEqual(results[id][half]);
        queued += results[id][half].length;
      }
    }
    // The bound drops only what a worker emits while the main thread is away.
    expect(queued).toBeGreaterThan(0);
  });

  it("reaches a processor request's listener, for each of a batch's requests", async () => {
    await using processor = await ParallelProcessor.create<typeof Tasks, 'progress'>({ module, handler: 'progress', threads: 2 });
    const { events, onEvent } = recorder();
    expect(await processor.process(3, { onEvent })).toBe(3);
    expect(events).toEqual([
      ['step', 0],
      ['step', 1],
      ['step', 2],
    ]);
    events.length = 0;
    const results = await processor.executeParallelBatch([2, 2, 2], { onEvent });
    expect(results.map((result) => result.ok && result.value)).toEqual([2, 2, 2]);
    expect(events).toHaveLength(6);
    expect(() => processor.process(1, { onEvent: 1 as never })).toThrow(/onEvent/);
  });

  it('refuses an onEvent that is not a function', () => {
    expect(() => pool.with({ onEvent: 'progress' as never })).toThrow(/onEvent/);
  });
});

describe('task events and the pool around them', () => {
  it('reach the root call from the parts of a broadcast inside a task', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 3 });
    const { events, onEvent } = recorder();
    expect(await pool.with({ onEvent }).run('broadcastEmitting')).toBe(3);
    expect(events.map(([, index]) => index).sort()).toEqual([0, 1, 2]);
  });

  it('deliver what a worker emitted before it died, and go on on its replacement', async () => {
    const errors: Error[] = [];
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, onError: (error) => errors.push(error) });
    const { events, onEvent } = recorder();
    await expect(pool.with({ onEvent }).run('emitThenExit')).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(events).toEqual([['before', 1]]);
    events.length = 0;
    // The replacement has a port and a count of its own: the bound starts from nothing again.
    expect(await pool.with({ onEvent }).run('progress', 1024)).toBe(1024);
    expect(events).toHaveLength(1024);
  });

  it("never reach another call's listener from an asynchronous task without one", async () => {
    // One worker, two asynchronous tasks at most: the listened task's context is current when the
    // worker, freed by the timed-out one, takes the next call.
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, asyncTasksPerWorker: 2 });
    const { events, onEvent } = recorder();
    const listened = pool.with({ onEvent }).run('emitAround', 400);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const timedOut = pool.with({ timeout: 50 }).run('pending');
    const unheard = pool.run('emitLater', 'b', 20);
    await expect(timedOut).rejects.toBeInstanceOf(TaskTimeoutError);
    expect(await unheard).toBe(false);
    expect(await listened).toBe('around');
    expect(events).toEqual([
      ['before', 0],
      ['after', 1],
    ]);
  });

  it('reach the listener from workers an elastic pool started for the load', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, minThreads: 1, maxThreads: 3 });
    const received = Array.from({ length: 12 }, () => 0);
    const queued = await Promise.all(
      Array.from({ length: 12 }, (_, id) => pool.with({ onEvent: () => void received[id]++ }).run('tagged', id, 20, 20)),
    );
    expect(received).toEqual(queued.map(([a, b]) => a.length + b.length));
    expect(pool.statistics().workers.length).toBeGreaterThan(1);
  });
});
