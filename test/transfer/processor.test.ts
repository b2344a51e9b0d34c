// A ParallelProcessor's requests pass through the pool's batches: a buffer marked in a request moves
// when the processor hands the request to the pool, not when `process` is called. A request that
// never gets capacity keeps its buffer.
import { describe, expect, it } from 'vitest';
import { ParallelProcessor, ProcessingError, TransferError, transfer } from 'viscose';
import type * as Tasks from '../fixtures/transfer-tasks.mjs';

const module = new URL('../fixtures/transfer-tasks.mjs', import.meta.url);

describe('transfer() in a processor’s requests', () => {
  it('moves a request’s buffer to the worker that handles it; one that times out waiting keeps it', async () => {
    const processor = await ParallelProcessor.create<typeof Tasks, 'handleRequest'>({
      module,
      handler: 'handleRequest',
      threads: 1,
      maxPendingTasks: 1,
      queueTimeout: 50,
    });
    try {
      const first = new Uint8Array(100);
      const waiting = new Uint8Array(200);
      const handled = processor.process({ ms: 300, bytes: transfer(first) });
      const timedOut = processor.process({ ms: 0, bytes: transfer(waiting) });
      const failure = await timedOut.catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ProcessingError);
      expect((failure as ProcessingError).kind).toBe('timed-out');
      expect(waiting.byteLength).toBe(200);
      expect(await handled).toBe(100);
      expect(first.byteLength).toBe(0);
    } finally {
      await processor.close();
    }
  });

  it('fails a request that moves a buffer through a processor with retries, leaving the buffer', async () => {
    const processor = await ParallelProcessor.create<typeof Tasks, 'handleRequest'>({
      module,
      handler: 'handleRequest',
      threads: 1,
      retries: 1,
    });
    try {
      const bytes = new Uint8Array(10);
      const failure = await processor.process({ ms: 0, bytes: transfer(bytes) }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ProcessingError);
      expect((failure as ProcessingError).cause).toBeInstanceOf(TransferError);
      expect(bytes.byteLength).toBe(10);
    } finally {
      await processor.close();
    }
  });
});
