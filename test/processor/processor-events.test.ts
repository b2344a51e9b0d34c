// The processor's events and maxQueue: needsDrain and drain as its capacity fills and empties,
// requests refused past maxQueue with a QueueFullError as their cause, and its pool's failures
// forwarded to its own error listeners while it has some.
import { describe, expect, it } from 'vitest';
import { ParallelProcessor, ProcessingError, QueueFullError, TaskError } from 'viscose';
import type * as Requests from '../fixtures/requests.mjs';
import { openGate, shutGate } from '../support/gate.js';
import { rejection } from '../support/rejection.js';
import { waitFor } from '../support/wait-for.js';

const module = new URL('../fixtures/requests.mjs', import.meta.url);

describe('processor events', () => {
  it('announce needsDrain once the capacity is used up, and drain once it is free again', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      maxPendingTasks: 2,
    });
    const seen: string[] = [];
    processor.on('needsDrain', () => seen.push('needsDrain'));
    processor.on('drain', () => seen.push('drain'));
    const gate = shutGate();
    const requests = [1, 2, 3, 4].map((id) => processor.process({ id, hold: gate }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['needsDrain']);
    openGate(gate);
    await Promise.all(requests);
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['needsDrain', 'drain']);
    expect(processor.needsDrain).toBe(false);
  });

  it('refuse a request past maxQueue at once, whatever its priority, and run those it took', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      maxPendingTasks: 1,
      maxQueue: 1,
    });
    const gate = shutGate();
    const running = processor.process({ id: 1, hold: gate });
    const waiting = processor.process({ id: 2 }, { priority: 'low' });
    for (const priority of ['high', 'low'] as const) {
      const refused = await rejection(processor.process({ id: 3 }, { priority }));
      expect(refused).toBeInstanceOf(ProcessingError);
      expect(refused.kind).toBe('backpressure-exceeded');
      expect(refused.cause).toBeInstanceOf(QueueFullError);
      expect(refused.cause).toMatchObject({ code: 'VISCOSE_QUEUE_FULL', maxQueue: 1 });
    }
    openGate(gate);
    expect(await Promise.all([running, waiting])).toEqual([
      { id: 1, doubled: 2 },
      { id: 2, doubled: 4 },
    ]);
    expect(processor.statistics().requests.rejected).toBe(2);
  });

  it("forward the pool's failures to error listeners while there are some", async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({ module, handler: 'handle', threads: 1 });
    const errors: Error[] = [];
    const listener = (error: Error) => errors.push(error);
    processor.on('error', listener);
    expect(processor.pool.listenerCount('error')).toBe(1);
    processor.pool.spawn('handle', { id: 7, fail: true });
    await waitFor(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(TaskError);
    processor.off('error', listener);
    expect(processor.pool.listenerCount('error')).toBe(0);
  });
});
