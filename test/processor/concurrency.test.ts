/**
 * Every way into a ParallelProcessor at once, through a small capacity: batches of both kinds,
 * streams in both orders, single requests at every priority, and tryProcess probing all the while.
 * Each request must get exactly one result, the right one, and when everything has settled the
 * counts must add up and the capacity must be whole again.
 */
import { describe, expect, it } from 'vitest';
import { ParallelProcessor, type ProcessingResult } from 'viscose';
import type * as Requests from '../fixtures/requests.mjs';
import { Random } from '../support/random.js';

const module = new URL('../fixtures/requests.mjs', import.meta.url);
const priorities = ['high', 'normal', 'low'] as const;
type Response = { id: number; doubled: number };

describe('a processor used every way at once', () => {
  it('gives every request exactly one correct result, and ends with its capacity whole', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      maxPendingTasks: 8,
      batchSize: 5,
      maxConcurrentBatches: 2,
    });
    const random = new Random(0x5eed);
    let nextId = 0;
    const seen = new Map<number, number>();
    const request = () => {
      const id = nextId++;
      return random.below(23) === 0 ? { id, fail: true } : { id };
    };
    const check = (id: number, result: { ok: true; value: Response } | { ok: false; error: Error }) => {
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (result.ok) expect(result.value).toEqual({ id, doubled: 2 * id });
      else expect(result.error.message).toMatch(`request ${id} failed`);
    };
    const checkAll = (sent: { id: number }[], results: ProcessingResult<Response>[]) => {
      expect(results).toHaveLength(sent.length);
      for (const result of results) check(sent[result.index].id, result);
    };

    const work: Promise<unknown>[] = [];
    for (let b = 0; b < 6; b++) {
      const sent = Array.from({ length: 150 }, request);
      const priority = priorities[b % 3];
      const batch = b % 2 === 0 ? processor.executeParallelBatch(sent, { priority }) : processor.executeChunkedParallel(sent, { priority });
      work.push(batch.then((results) => checkAll(sent, results)));
    }
    for (const order of ['input', 'completion'] as const) {
      const sent = Array.from({ length: 300 }, request);
      work.push(
        (async () => {
          const results: ProcessingResult<Response>[] = [];
          for await (const result of processor.stream(sent, { order, priority: order === 'input' ? 'low' : 'high' })) results.push(result);
          if (order === 'input') expect(results.map((result) => result.index)).toEqual(sent.map((_, i) => i));
          checkAll(sent, results);
        })(),
      );
    }
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const sent = request();
      const priority = priorities[random.below(3)];
      if (i % 10 === 0) {
        const accepted = processor.tryProcess(sent, { priority });
        if (accepted === undefined) {
          refused++;
          seen.set(sent.id, 1);
        } else {
          work.push(
            accepted.then(
              (value) => check(sent.id, { ok: true, value }),
              (error: Error) => check(sent.id, { ok: false, error }),
            ),
          );
        }
      } else {
        work.push(
          processor.process(sent, { priority }).then(
            (value) => check(sent.id, { ok: true, value }),
            (error: Error) => check(sent.id, { ok: false, error }),
          ),
        );
      }
      if (i % 25 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(work);

    expect(seen.size).toBe(nextId);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    const { requests } = processor.statistics();
    expect(requests.submitted).toBe(nextId);
    expect(requests.rejected).toBe(refused);
    expect(requests.completed + requests.failed + requests.rejected + requests.cancelled + requests.timedOut).toBe(requests.submitted);
    expect(requests).toMatchObject({ inFlight: 0, waiting: 0, cancelled: 0, timedOut: 0 });
    expect(processor.needsDrain).toBe(false);
    // The whole capacity can be taken again.
    const full = Array.from({ length: 8 }, (_, k) => processor.tryProcess({ id: 10_000 + k }));
    expect(full.every((call) => call !== undefined)).toBe(true);
    expect(processor.tryProcess({ id: 20_000 })).toBeUndefined();
    await Promise.all(full);
  });
});
