// ParallelProcessor on a viscose cluster against a real Redis: the processor's methods, its
// capacity, priorities, cancellation, failures, statistics and end, with the requests running on
// a node process. The node runs 8 jobs at once, each request's handler waiting without holding
// its thread, so only the processor's capacity bounds the requests running at once.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ParallelProcessor, PoolClosedError, ProcessingError, TaskError } from 'viscose';
import { ClusterClient } from 'viscose/bullmq';
import type * as Tasks from '../fixtures/cluster-tasks.mjs';
import { type NodeProcess, startNode, withQueue } from '../support/cluster-node.js';
import { startRedis } from '../support/redis.mjs';
import { waitFor } from '../support/wait-for.js';

/** Without redis-server these tests skip (test/support/services.ts says so once). */
const hasRedis = inject('services').redis;

const QUEUE = 'viscose-processor';

type Request = { id: number; file?: string; ms?: number; fail?: boolean };

describe.skipIf(!hasRedis)('a ParallelProcessor on a cluster', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let node: NodeProcess;
  let client: ClusterClient<typeof Tasks>;
  let dir: string;
  let files = 0;
  /** A fresh trace file for one test. */
  const traceFile = () => join(dir, `trace-${files++}.txt`);
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const hasLine = (file: string, line: string) => {
    try {
      return lines(file).includes(line);
    } catch {
      return false; // not written yet
    }
  };
  /** The most requests of `file` that had started and not ended at any one time, on the node. */
  const mostAtOnce = (file: string) => {
    let running = 0;
    let most = 0;
    for (const line of lines(file)) {
      running += line.startsWith('start ') ? 1 : -1;
      most = Math.max(most, running);
    }
    return most;
  };
  const processorOn = (options: { maxPendingTasks?: number; batchSize?: number; backpressure?: 'wait' | 'reject' } = {}) =>
    ParallelProcessor.create<typeof Tasks, 'handleRequest'>({ cluster: client, handler: 'handleRequest', ...options });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'viscose-processor-'));
    redis = await startRedis();
    node = startNode(redis.url, { queue: QUEUE, concurrency: 8 });
    await node.serving();
    // One call per job: each request starts on its own, so that the node's trace shows them all.
    client = await ClusterClient.connect<typeof Tasks>({ queue: QUEUE, redis: redis.url, chunkSize: 1 });
  });

  afterAll(async () => {
    await client?.close();
    node?.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const jobsThat = (state: 'active' | 'prioritized') => withQueue(redis.url, QUEUE, (queue) => queue.getJobCountByTypes(state));

  /**
   * Occupies every job slot of the node until `release()`: jobs added meanwhile wait in the queue.
   * (Its one thread runs one blocker at a time; the others hold their slots, waiting for it.)
   */
  async function occupyNode(file: string) {
    const releaseFile = `${file}.release`;
    const blockers = Array.from({ length: 8 }, (_, i) => client.run('recordUntilReleased', file, `blocker ${i}`, releaseFile));
    await waitFor(async () => (await jobsThat('active')) === 8);
    return {
      release: async () => {
        writeFileSync(releaseFile, '');
        await Promise.all(blockers);
      },
    };
  }

  it('handles single requests, a parallel batch and a chunked batch, each result in order', async () => {
    await using processor = await processorOn({ batchSize: 16 });
    expect(await processor.process({ id: 21 })).toBe(42);
    const requests = Array.from({ length: 200 }, (_, id): Request => ({ id }));
    for (const results of [await processor.executeParallelBatch(requests), await processor.executeChunkedParallel(requests)]) {
      expect(results.map((result) => (result.ok ? result.value : result.error))).toEqual(requests.map(({ id }) => id * 2));
      expect(results.map((result) => result.index)).toEqual(requests.map(({ id }) => id));
    }
    const statistics = processor.statistics();
    expect(statistics.requests).toMatchObject({ submitted: 401, completed: 401, failed: 0, inFlight: 0, waiting: 0 });
    expect(statistics.batches.completed).toBe(2);
    expect(statistics.latency.count).toBeGreaterThan(0);
    expect(statistics.pool).toBeUndefined();
  });

  it('fails a request whose handler throws with task-failed, as on a pool, and the others of its batch still run', async () => {
    await using processor = await processorOn({ batchSize: 4 });
    const failure = await processor.process({ id: 1, fail: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProcessingError);
    expect((failure as ProcessingError).kind).toBe('task-failed');
    expect((failure as ProcessingError).cause).toBeInstanceOf(TaskError);
    expect(((failure as ProcessingError).cause as TaskError).cause).toMatchObject({ name: 'RangeError', message: 'request 1 fails' });
    const requests = Array.from({ length: 10 }, (_, id): Request => ({ id, fail: id % 3 === 0 }));
    for (const method of ['executeParallelBatch', 'executeChunkedParallel'] as const) {
      const results = await processor[method](requests);
      const failed = results.flatMap((result) => (result.ok ? [] : [[result.index, result.error.kind, result.error.index]]));
      expect(failed).toEqual([0, 3, 6, 9].map((index) => [index, 'task-failed', index]));
      expect(results.filter((result) => result.ok).map((result) => result.ok && result.value)).toEqual([2, 4, 8, 10, 14, 16]);
    }
    expect(processor.statistics().requests).toMatchObject({ completed: 12, failed: 9 });
  });

  it('streams through a slow consumer with never more than maxPendingTasks requests running, read ahead or unyielded', async () => {
    const file = traceFile();
    await using processor = await processorOn({ maxPendingTasks: 3 });
    const drainEvents: string[] = [];
    processor.on('needsDrain', () => drainEvents.push('needsDrain'));
    processor.on('drain', () => drainEvents.push('drain'));
    let read = 0;
    let yielded = 0;
    let mostAhead = 0;
    async function* source() {
      for (let id = 0; id < 30; id++) {
        read++;
        mostAhead = Math.max(mostAhead, read - yielded);
        yield { id, file, ms: 20 };
      }
    }
    const values: number[] = [];
    for await (const result of processor.stream(source())) {
      expect(result.ok).toBe(true);
      if (result.ok) values.push(result.value);
      yielded++;
      await new Promise((resolve) => setTimeout(resolve, 15)); // a slow consumer
    }
    expect(values).toEqual(Array.from({ length: 30 }, (_, id) => id * 2));
    expect(mostAhead).toBeLessThanOrEqual(3);
    // The node could run 8 at once; the processor's capacity let 3 reach it.
    expect(mostAtOnce(file)).toBeLessThanOrEqual(3);
    expect(mostAtOnce(file)).toBeGreaterThan(1);
    expect(drainEvents[0]).toBe('needsDrain');
    expect(drainEvents.at(-1)).toBe('drain');
  });

  it('waits for capacity, or refuses in backpressure reject mode, as on a pool', async () => {
    const file = traceFile();
    await using processor = await processorOn({ maxPendingTasks: 2, backpressure: 'reject' });
    const running = [processor.process({ id: 1, file, ms: 200 }), processor.process({ id: 2, file, ms: 200 })];
    expect(processor.needsDrain).toBe(true);
    const refused = await processor.process({ id: 3 }).catch((error: unknown) => error);
    expect((refused as ProcessingError).kind).toBe('backpressure-exceeded');
    expect(processor.tryProcess({ id: 4 })).toBeUndefined();
    await processor.drain();
    expect(await Promise.all(running)).toEqual([2, 4]);
    expect(processor.statistics().requests).toMatchObject({ submitted: 4, completed: 2, rejected: 2 });
  });

  it('runs waiting requests by priority: high, then normal, then low', async () => {
    const file = traceFile();
    const node = await occupyNode(file);
    await using processor = await processorOn();
    const requests = (priority: 'high' | 'normal' | 'low', first: number) =>
      Array.from({ length: 3 }, (_, i) => processor.process({ id: first + i, file }, { priority }));
    const handled = [...requests('low', 300), ...requests('normal', 200), ...requests('high', 100)];
    await waitFor(async () => (await jobsThat('prioritized')) === 9);
    await node.release();
    await Promise.all(handled);
    const order = lines(file).filter((line) => line.startsWith('start ') && !line.includes('blocker'));
    expect(order).toEqual([100, 101, 102, 200, 201, 202, 300, 301, 302].map((id) => `start ${id}`));
  });

  it('cancels the requests of an aborted signal: waiting ones never run', async () => {
    const file = traceFile();
    const node = await occupyNode(file);
    await using processor = await processorOn();
    const controller = new AbortController();
    const batch = processor.executeParallelBatch(
      Array.from({ length: 4 }, (_, id) => ({ id, file })),
      { signal: controller.signal },
    );
    await waitFor(async () => (await jobsThat('prioritized')) === 4);
    controller.abort();
    const results = await batch;
    expect(results.map((result) => !result.ok && result.error.kind)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    await node.release();
    expect(await processor.process({ id: 9, file })).toBe(18);
    expect(lines(file).filter((line) => !line.includes('blocker'))).toEqual(['start 9', 'end 9']);
    expect(processor.statistics().requests).toMatchObject({ cancelled: 4, completed: 1 });
  });

  it('renders its own Prometheus metrics, without the pool families', async () => {
    await using processor = await processorOn();
    await processor.executeParallelBatch([{ id: 1 }, { id: 2, fail: true }]);
    const families = new Map(parsePrometheus(processor.metrics()).map((family) => [family.name, family]));
    expect([...families.keys()].every((name) => name.startsWith('viscose_processor_'))).toBe(true);
    const outcomes = families.get('viscose_processor_requests_total')!.metrics;
    expect(outcomes.find((metric) => metric.labels?.outcome === 'failed')?.value).toBe('1');
    expect(processor.threads).toBe(1024); // the capacity: the most requests it runs at once
  });

  it('closes after the requests under way, refusing new ones, and leaves the client open', async () => {
    const file = traceFile();
    const processor = await processorOn();
    const underWay = processor.process({ id: 5, file, ms: 100 });
    await processor.close();
    expect(hasLine(file, 'end 5')).toBe(true);
    expect(await underWay).toBe(10);
    const refused = await processor.process({ id: 6 }).catch((error: unknown) => error);
    expect((refused as ProcessingError).cause).toBeInstanceOf(PoolClosedError);
    expect(await client.run('add', 1, 2)).toBe(3);
  });

  it('terminates: requests in flight fail with cancelled and their jobs are withdrawn, the client stays open', async () => {
    const file = traceFile();
    const node = await occupyNode(file);
    const processor = await processorOn();
    const waiting = processor.executeParallelBatch(Array.from({ length: 3 }, (_, id) => ({ id, file })));
    await waitFor(async () => (await jobsThat('prioritized')) === 3);
    await processor.terminate();
    expect((await waiting).map((result) => !result.ok && result.error.kind)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    await waitFor(async () => (await jobsThat('prioritized')) === 0);
    await node.release();
    expect(await client.run('add', 2, 2)).toBe(4);
  });

  it('stops a stream when its cluster client is closed under it: the stream ends with a PoolClosedError', async () => {
    const own = await ClusterClient.connect<typeof Tasks>({ queue: QUEUE, redis: redis.url });
    await using processor = await ParallelProcessor.create<typeof Tasks, 'handleRequest'>({
      cluster: own,
      handler: 'handleRequest',
      maxPendingTasks: 2,
    });
    const results: (string | number)[] = [];
    let read = 0;
    async function* source() {
      for (let id = 0; ; id++) {
        read++;
        yield { id, ms: 20 };
      }
    }
    const consumed = (async () => {
      for await (const result of processor.stream(source())) {
        results.push(result.ok ? result.value : result.error.kind);
        if (results.length === 4) void own.close();
      }
    })();
    await expect(consumed).rejects.toThrow(PoolClosedError);
    expect(results.length).toBe(read);
    expect(results.slice(0, 4)).toEqual([0, 2, 4, 6]);
    expect(results.slice(4).every((outcome) => outcome === 'cancelled')).toBe(true);
  });
});
