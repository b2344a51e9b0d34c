// The processor's statistics, its monitor hook and diagnostics channels, and its Prometheus output.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import parsePrometheus from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { type BatchReport, ParallelProcessor, type ProcessorStatistics } from 'viscose';
import type * as Requests from '../fixtures/requests.mjs';

const module = new URL('../fixtures/requests.mjs', import.meta.url);

/** A 2-thread processor whose batch reports go to `reports`, after one small warm-up batch. */
async function warmedUp(reports: BatchReport[]): Promise<ParallelProcessor<typeof Requests, 'handle'>> {
  const processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
    module,
    handler: 'handle',
    threads: 2,
    monitor: { batchCompleted: (report) => reports.push(report) },
  });
  await processor.executeParallelBatch(Array.from({ length: 4 }, (_, id) => ({ id, spinMs: 5 })));
  return processor;
}

describe('processor statistics', () => {
  it('add up: completed + failed + rejected + cancelled + timed out = submitted', async () => {
    // Capacity is room for both batches at once, so no batch request ever waits for it (nothing
    // here depends on how fast the machine is); then held requests fill it until the test lets
    // them go, so that one more times out waiting and another is refused.
    const capacity = 100;
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 2,
      maxPendingTasks: capacity,
      queueTimeout: 10,
    });
    await Promise.all([
      processor.executeParallelBatch(Array.from({ length: 50 }, (_, id) => ({ id, fail: id % 10 === 0 }))),
      processor.executeChunkedParallel(Array.from({ length: 50 }, (_, id) => ({ id }))),
    ]);
    const hold = new Int32Array(new SharedArrayBuffer(4));
    const held = Array.from({ length: capacity }, (_, id) => processor.process({ id, hold }));
    const timedOut = processor.process({ id: -1 }).catch((error) => error.kind);
    expect(processor.tryProcess({ id: -2 })).toBeUndefined();
    expect(await timedOut).toBe('timed-out');
    Atomics.store(hold, 0, 1);
    Atomics.notify(hold, 0);
    await Promise.all(held);
    const { requests } = processor.statistics();
    expect(requests).toEqual({
      submitted: 202,
      completed: 195,
      failed: 5,
      rejected: 1,
      cancelled: 0,
      timedOut: 1,
      retried: 0,
      inFlight: 0,
      waiting: 0,
    });
  });

  // Near 1, not exactly: the gaps between tasks count against it, and on a shared machine a thread
  // preempted between two tasks widens them. Half a pool idle would read 0.5.
  it('show a saturating CPU-bound batch with utilisation and batch efficiency above 0.8', async () => {
    const reports: BatchReport[] = [];
    await using processor = await warmedUp(reports);
    processor.pool.resetStatistics();
    await processor.executeParallelBatch(Array.from({ length: 40 }, (_, id) => ({ id, spinMs: 10 })));
    const stats = processor.statistics();
    expect(stats.pool.utilisation).toBeGreaterThan(0.8);
    expect(stats.pool.utilisation).toBeLessThanOrEqual(1);
    const report = reports[1];
    expect(report).toMatchObject({ kind: 'parallel', requests: 40, failed: 0, threads: 2 });
    expect(report.runMs).toBeGreaterThanOrEqual(400);
    expect(report.efficiency).toBeGreaterThan(0.8);
    expect(report.efficiency).toBeLessThanOrEqual(1);
    expect(stats.batches.efficiency.last).toBe(report.efficiency);
    expect(stats.latency.count).toBe(44);
    expect(stats.latency.minUs).toBeGreaterThanOrEqual(5000);
    expect(stats.pool.dispatchLatency.count).toBe(40); // the pool's were reset after the warm-up
  });

  it('give batches that share the pool their share, and all of them together their overall efficiency', async () => {
    const reports: BatchReport[] = [];
    await using processor = await warmedUp(reports);
    processor.resetStatistics();
    reports.length = 0;
    const batch = () => processor.executeParallelBatch(Array.from({ length: 20 }, (_, id) => ({ id, spinMs: 10 })));
    await Promise.all([batch(), batch()]);
    // The two batches ran in the same 200 ms of two threads: however they were interleaved, one
    // of them had the threads for at most half of its time.
    expect(reports).toHaveLength(2);
    expect(Math.min(...reports.map((report) => report.efficiency))).toBeLessThan(0.75);
    const { efficiency } = processor.statistics().batches;
    expect(efficiency.count).toBe(2);
    expect(efficiency.overall).toBeGreaterThan(0.8);
    expect(efficiency.overall).toBeLessThanOrEqual(1);
    expect(
      parsePrometheus(processor.metrics()).find((family) => family.name === 'viscose_processor_batch_efficiency')!.metrics,
    ).toHaveLength(2);
  });

  it('start again from zero after resetStatistics()', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({ module, handler: 'handle', threads: 1 });
    await processor.executeChunkedParallel(Array.from({ length: 8 }, (_, id) => ({ id, fail: id === 1 })));
    processor.resetStatistics();
    let stats = processor.statistics();
    expect(stats.requests).toMatchObject({ submitted: 0, completed: 0, failed: 0 });
    expect(stats.batches.efficiency.count).toBe(0);
    expect(stats.latency.count).toBe(0);
    expect(stats.pool.dispatchLatency.count).toBe(0);
    await processor.executeParallelBatch([{ id: 1 }, { id: 2 }]);
    stats = processor.statistics();
    expect(stats.requests).toMatchObject({ submitted: 2, completed: 2, failed: 0 });
    expect(stats.batches.efficiency.count).toBe(1);
    expect(stats.latency.count).toBe(2);
  });

  it('keep only counts with statistics: false', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
      module,
      handler: 'handle',
      threads: 1,
      statistics: false,
    });
    await processor.executeParallelBatch([{ id: 1 }, { id: 2 }]);
    const stats = processor.statistics();
    expect(stats.requests.completed).toBe(2);
    expect(stats.latency.count).toBe(0);
    expect(stats.pool.dispatchLatency.count).toBe(0);
  });

  it('reach the monitor periodically and the diagnostics channels, and survive a monitor that throws', async () => {
    const snapshots: ProcessorStatistics[] = [];
    const published: unknown[] = [];
    const onBatch = (report: unknown) => published.push(report);
    subscribe('viscose:processor:batch', onBatch);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({
        module,
        handler: 'handle',
        threads: 1,
        monitorInterval: 10,
        monitor: {
          statistics: (stats) => snapshots.push(stats),
          batchCompleted: () => {
            throw new Error('monitor bug');
          },
        },
      });
      const results = await processor.executeChunkedParallel(Array.from({ length: 10 }, (_, id) => ({ id })));
      expect(results.every((result) => result.ok)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(snapshots.length).toBeGreaterThanOrEqual(2);
      expect(snapshots.at(-1)!.requests.completed).toBe(10);
      expect(published).toHaveLength(1);
      expect((published[0] as BatchReport).kind).toBe('chunked');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((message) => message.includes('monitor bug'))).toBe(true);
    } finally {
      unsubscribe('viscose:processor:batch', onBatch);
      process.off('warning', onWarning);
    }
  });

  it('render the Prometheus format with the pool and processor metrics, which parses back', async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({ module, handler: 'handle', threads: 2 });
    await processor.executeParallelBatch(Array.from({ length: 20 }, (_, id) => ({ id, fail: id === 3 })));
    const families = new Map(parsePrometheus(processor.metrics()).map((family) => [family.name, family]));
    const outcomes = families.get('viscose_processor_requests_total')!;
    expect(outcomes.type).toBe('COUNTER');
    const byOutcome = Object.fromEntries(outcomes.metrics.map((metric) => [metric.labels!.outcome, Number(metric.value)]));
    expect(byOutcome).toMatchObject({ completed: 19, failed: 1 });
    expect(families.get('viscose_processor_request_latency_seconds')!.type).toBe('SUMMARY');
    expect(families.has('viscose_worker_utilisation')).toBe(true);
    expect(families.has('viscose_dispatch_latency_seconds')).toBe(true);
  });
});
