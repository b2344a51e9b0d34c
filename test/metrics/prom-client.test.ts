// The prom-client integration: viscose's metric families inside an application's own registry,
// read afresh at each scrape, next to prom-client's metrics, and removable again.
import parsePrometheus from 'parse-prometheus-text-format';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricNameTakenError, ParallelProcessor, ThreadPool, ViscoseError } from 'viscose';
import type * as Requests from '../fixtures/requests.mjs';

const module = new URL('../fixtures/requests.mjs', import.meta.url);

async function scrape(registry: Registry) {
  return new Map(parsePrometheus(await registry.metrics()).map((family) => [family.name, family]));
}

describe('prom-client registry', () => {
  it("serves the processor's and the pool's families, current at every scrape, beside the application's", async () => {
    await using processor = await ParallelProcessor.create<typeof Requests, 'handle'>({ module, handler: 'handle', threads: 2 });
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const own = new Counter({ name: 'app_requests_total', help: 'The application’s own counter.', registers: [registry] });
    own.inc(3);
    processor.registerMetrics(registry);

    await processor.executeParallelBatch(Array.from({ length: 10 }, (_, id) => ({ id, fail: id === 0 })));
    let families = await scrape(registry);
    expect(Number(families.get('app_requests_total')!.metrics[0].value)).toBe(3);
    expect(families.has('process_cpu_user_seconds_total')).toBe(true);
    const outcomes = (found: typeof families) =>
      Object.fromEntries(
        found.get('viscose_processor_requests_total')!.metrics.map((metric) => [metric.labels!.outcome, Number(metric.value)]),
      );
    expect(outcomes(families)).toMatchObject({ completed: 9, failed: 1 });

    await processor.executeParallelBatch(Array.from({ length: 5 }, (_, id) => ({ id })));
    families = await scrape(registry);
    expect(outcomes(families)).toMatchObject({ completed: 14, failed: 1 });
    const latency = families.get('viscose_processor_request_latency_seconds')!;
    expect(latency.type).toBe('SUMMARY');
    expect(Number(latency.metrics[0].count)).toBe(15);
    expect(Object.keys(latency.metrics[0].quantiles!)).toEqual(['0.5', '0.9', '0.99', '0.999']);
    const workers = families.get('viscose_worker_utilisation')!.metrics.map((metric) => metric.labels!.worker);
    expect(workers.sort()).toEqual(['viscose-0', 'viscose-1']);

    // Same families as metrics() renders on its own.
    const direct = parsePrometheus(processor.metrics()).map((family) => family.name);
    expect([...families.keys()].filter((name) => name.startsWith('viscose_'))).toEqual(direct);
  });

  it('refuses names that are taken, registering nothing, and unregisters on request', async () => {
    await using pool = await ThreadPool.create<typeof Requests>({ module, threads: 1 });
    const registry = new Registry();
    const unregister = pool.registerMetrics(registry);
    const names = registry.getMetricsAsArray().map((metric) => metric.name);
    expect(names.length).toBeGreaterThan(5);
    let taken: unknown;
    try {
      pool.registerMetrics(registry);
    } catch (error) {
      taken = error;
    }
    expect(taken).toBeInstanceOf(MetricNameTakenError);
    expect(taken).toBeInstanceOf(ViscoseError);
    expect(taken).toMatchObject({
      code: 'VISCOSE_METRIC_NAME_TAKEN',
      metric: names[0],
      message: `a metric named ${names[0]} is registered already`,
    });
    expect(registry.getMetricsAsArray()).toHaveLength(names.length);
    unregister();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    pool.registerMetrics(registry);
    await pool.run('handle', { id: 2 });
    expect((await scrape(registry)).get('viscose_worker_tasks_total')).toBeDefined();
  });

  it('speaks OpenMetrics too', async () => {
    const openMetrics = Registry.OPENMETRICS_CONTENT_TYPE;
    await using pool = await ThreadPool.create<typeof Requests>({ module, threads: 1 });
    const registry = new Registry<typeof openMetrics>();
    registry.setContentType(openMetrics);
    pool.registerMetrics(registry);
    const text = await registry.metrics();
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toMatch(/^viscose_worker_tasks_total(\{[^}]*\})? \d+$/m);
  });
});
