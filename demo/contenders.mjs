// The two engines the demo compares, behind one interface: start, process a stream of raw requests
// with at most `window` in flight, handle one request, close. Both run the same handler
// (`handleToolCall` of rpc.mjs) on the same workers' count, and report every request's outcome the
// same way, so that the demo measures them alike.
import { Piscina } from 'piscina';
import { ParallelProcessor } from 'viscose';
import { frames } from './requests.mjs';

const module = new URL('./rpc.mjs', import.meta.url);
const HANDLER = 'handleToolCall';

/** Requests per frame of the incoming stream, as a connection would deliver them. */
export const FRAME = 256;

/**
 * What a stream's requests came to: the JSON-RPC response of each (a request whose handler threw
 * gets an internal error, as a server would send), and the milliseconds the handlers ran.
 */
export class StreamOutcome {
  constructor(count) {
    this.responses = new Array(count);
    this.handlerMs = 0;
    this.failed = 0;
  }

  succeeded(index, envelope) {
    this.responses[index] = envelope.response;
    this.handlerMs += envelope.ranMs;
  }

  failedAt(index) {
    this.failed++;
    this.responses[index] = { jsonrpc: '2.0', id: index, error: { code: -32603, message: 'internal error' } };
  }
}

/**
 * viscose: a ParallelProcessor. Each frame of the stream is one `executeChunkedParallel` batch
 * (chunks of `batchSize` travel as one task each); the producer keeps `maxConcurrentBatches`
 * frames in flight, and the processor's capacity bounds the requests in flight.
 */
export async function viscose({ threads, batchSize, window }) {
  const maxConcurrentBatches = Math.max(1, Math.floor(window / FRAME));
  const processor = await ParallelProcessor.create({
    module,
    handler: HANDLER,
    threads,
    threadNamePrefix: 'rpc',
    batchSize,
    maxConcurrentBatches,
    maxPendingTasks: window,
  });
  return {
    name: 'viscose',
    processor,
    async stream(requests, progress) {
      const outcome = new StreamOutcome(requests.length);
      const pending = new Set();
      let offset = 0;
      let done = 0;
      for await (const frame of frames(requests, FRAME)) {
        const start = offset;
        offset += frame.length;
        const batch = processor.executeChunkedParallel(frame).then((results) => {
          for (const result of results) {
            if (result.ok) outcome.succeeded(start + result.index, result.value);
            else outcome.failedAt(start + result.index);
          }
          done += results.length;
          progress(done);
        });
        pending.add(batch);
        batch.then(() => pending.delete(batch));
        if (pending.size >= maxConcurrentBatches) await Promise.race(pending);
      }
      await Promise.all(pending);
      return outcome;
    },
    one: (raw) => processor.process(raw),
    close: () => processor.close(),
  };
}

/**
 * piscina, configured as its documentation recommends for a fixed pool: `minThreads` =
 * `maxThreads` = threads, everything else at its defaults. It has no batch call, so every request
 * is one `run`; the producer keeps at most `window` of them in flight, like viscose's capacity.
 */
export async function piscina({ threads, window }) {
  const pool = new Piscina({ filename: module.href, name: HANDLER, minThreads: threads, maxThreads: threads });
  return {
    name: 'piscina',
    async stream(requests, progress) {
      const outcome = new StreamOutcome(requests.length);
      let inFlight = 0;
      let done = 0;
      let freed;
      const settle = () => {
        inFlight--;
        if (++done % FRAME === 0 || done === requests.length) progress(done);
        if (freed !== undefined) {
          const resolve = freed;
          freed = undefined;
          resolve();
        }
      };
      let index = 0;
      for await (const frame of frames(requests, FRAME)) {
        for (const raw of frame) {
          while (inFlight >= window) await new Promise((resolve) => (freed = resolve));
          const at = index++;
          inFlight++;
          pool.run(raw).then(
            (envelope) => {
              outcome.succeeded(at, envelope);
              settle();
            },
            () => {
              outcome.failedAt(at);
              settle();
            },
          );
        }
      }
      while (inFlight > 0) await new Promise((resolve) => (freed = resolve));
      return outcome;
    },
    one: (raw) => pool.run(raw),
    close: () => pool.close(),
  };
}
