// Pool statistics: counts that add up, utilisation of a saturated pool, latency histograms, queue
// depths while work waits, and a Prometheus rendering that a parser reads back.
import parsePrometheus from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import type * as Tasks from '../fixtures/tasks.mjs';

const module = new URL('../fixtures/tasks.mjs', import.meta.url);

async function settled(promises: Promise<unknown>[]): Promise<void> {
  await Promise.allSettled(promises);
}

describe('pool statistics', () => {
  it('count every call once: completed + failed + cancelled + in flight = submitted', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, statistics: true, maxPendingTasks: 8 });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) calls.push(i % 10 === 0 ? pool.run('fail', `call ${i}`) : pool.run('add', i, 1));
    await settled(calls);
    let stats = pool.statistics();
    expect(stats.submitted).toBe(300);
    expect(stats.completed).toBe(270);
    expect(stats.failed).toBe(30);
    expect(stats.inFlight).toBe(0);
    // Work still waiting when the pool is terminated counts as cancelled.
    const flag = new Int32Array(new SharedArrayBuffer(4));
    await pool.run('ticket', flag); // announces the buffer to the workers
    Atomics.store(flag, 0, 0);
    pool.resetStatistics();
    const pending = [pool.run('holdUntil', flag), pool.run('holdUntil', flag), ...Array.from({ length: 20 }, () => pool.run('add', 1, 2))];
    await new Promise((resolve) => setTimeout(resolve, 50));
    stats = pool.statistics();
    expect(stats.submitted).toBe(22);
    expect(stats.completed + stats.failed + stats.cancelled + stats.inFlight).toBe(22);
    const outcomes = settled(pending); // handled before terminate() rejects them
    await pool.terminate();
    await outcomes;
    stats = pool.statistics();
    expect(stats.completed + stats.failed + stats.cancelled).toBe(22);
    expect(stats.cancelled).toBeGreaterThanOrEqual(20);
  });

  it('measure utilisation near 1 for a saturating CPU-bound load, and the run times of its tasks', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, statistics: true });
    try {
      await Promise.all(Array.from({ length: 4 }, () => pool.run('spin', 5))); // warm up
      pool.resetStatistics();
      await Promise.all(Array.from({ length: 40 }, () => pool.run('spin', 10)));
      const stats = pool.statistics();
      for (const worker of stats.workers) {
        expect(worker.utilisation).toBeGreaterThan(0.9);
        expect(worker.utilisation).toBeLessThanOrEqual(1);
        expect(worker.busyMs).toBeLessThanOrEqual(stats.intervalMs);
      }
      expect(stats.workers.reduce((sum, worker) => sum + worker.tasksRun, 0)).toBe(40);
      expect(stats.runTime.count).toBe(40);
      expect(stats.runTime.minUs).toBeGreaterThanOrEqual(10_000);
      expect(stats.runTime.p50Us).toBeLessThanOrEqual(stats.runTime.p99Us);
      expect(stats.runTime.p99Us).toBeLessThanOrEqual(stats.runTime.maxUs);
      // 40 calls of 10 ms on 2 threads: most waited behind others.
      expect(stats.dispatchLatency.maxUs).toBeGreaterThan(100_000);
      expect(stats.endToEndLatency.minUs).toBeGreaterThanOrEqual(stats.runTime.minUs);
    } finally {
      await pool.close();
    }
  });

  it('measure low utilisation for an idle pool, and report no per-call figures without statistics: true', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    try {
      await pool.run('add', 1, 1);
      pool.resetStatistics();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stats = pool.statistics();
      expect(stats.utilisation).toBeLessThan(0.2);
      expect(stats.submitted).toBe(0);
      expect(stats.dispatchLatency.count).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('show queue depths while work waits, by priority', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1, maxPendingTasks: 4 });
    try {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      await pool.run('ticket', flag);
      Atomics.store(flag, 0, 0);
      const held = pool.run('holdUntil', flag);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const queued = [
        ...Array.from({ length: 3 }, () => pool.with({ priority: 'high' }).run('add', 1, 1)),
        ...Array.from({ length: 5 }, () => pool.with({ priority: 'low' }).run('add', 1, 1)),
      ];
      const stats = pool.statistics();
      // Three slots left behind the held one: the three high-priority calls; the rest wait.
      expect(stats.queues.injector).toEqual({ high: 3, normal: 0, low: 0 });
      expect(stats.queues.waiting).toEqual({ high: 0, normal: 0, low: 5 });
      expect(stats.inFlight).toBe(9);
      Atomics.store(flag, 0, 1);
      await Promise.all([held, ...queued]);
      expect(pool.statistics().queues.waiting).toEqual({ high: 0, normal: 0, low: 0 });
    } finally {
      await pool.close();
    }
  });

  it('render the Prometheus text format, which parses back to the same figures', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2, statistics: true, threadName: (i) => `odd "name" \\ ${i}` });
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => pool.run('add', i, i)));
      const stats = pool.statistics();
      const families = new Map(parsePrometheus(pool.metrics()).map((family) => [family.name, family]));
      expect(families.get('viscose_calls_completed_total')!.metrics[0].value).toBe(String(stats.completed));
      expect(families.get('viscose_calls_submitted_total')!.type).toBe('COUNTER');
      const utilisation = families.get('viscose_worker_utilisation')!;
      expect(utilisation.type).toBe('GAUGE');
      expect(utilisation.metrics.map((metric) => metric.labels!.worker)).toEqual(['odd "name" \\ 0', 'odd "name" \\ 1']);
      const dispatch = families.get('viscose_dispatch_latency_seconds')!;
      expect(dispatch.type).toBe('SUMMARY');
      expect(Number(dispatch.metrics[0].count)).toBe(50);
      expect(Object.keys(dispatch.metrics[0].quantiles!)).toEqual(['0.5', '0.9', '0.99', '0.999']);
      const depth = families.get('viscose_queue_depth')!;
      expect(depth.metrics).toHaveLength(6);
    } finally {
      await pool.close();
    }
  });
});
