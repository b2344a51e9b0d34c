/**
 * Exposes metric families through a prom-client `Registry`, so that an application scraping its own
 * prom-client metrics gets viscose's next to them. viscose does not depend on prom-client: the
 * registry is taken as it is, and each family is registered as an object that answers prom-client's
 * `get()` with the family's current samples (the shape of `MetricObjectWithValues`), which keeps
 * summaries whose quantiles viscose computed itself — prom-client's own Summary can only observe.
 */
import { MetricNameTakenError } from '../errors.js';
import type { MetricFamily } from './prometheus.js';

/** What viscose needs of a prom-client `Registry` (prom-client 12 to 15 have it). */
export interface MetricsRegistry {
  // biome-ignore lint/suspicious/noExplicitAny: prom-client types the parameter as its own metric classes; what its registry reads of them is what RegisteredFamily has, so the parameter stays open here.
  registerMetric(metric: any): void;
  removeSingleMetric(name: string): void;
  getSingleMetric(name: string): unknown;
}

/** One family as prom-client's registry reads it. */
export interface RegisteredFamily {
  name: string;
  readonly help: string;
  readonly type: MetricFamily['type'];
  readonly aggregator: 'sum';
  get(): Promise<{
    name: string;
    help: string;
    type: MetricFamily['type'];
    aggregator: 'sum';
    values: { metricName?: string; labels: Record<string, string>; value: number }[];
  }>;
  reset(): void;
}

/**
 * Registers the families `read()` returns (their names must not change between reads) and returns
 * a function that unregisters them. A scrape reads the families once, however many there are: the
 * registry asks every family in the same tick, so one read is cached until the next microtask.
 * Throws MetricNameTakenError, having registered nothing, if a name is taken already.
 */
export function registerFamilies(registry: MetricsRegistry, read: () => MetricFamily[]): () => void {
  let cached: Map<string, MetricFamily> | undefined;
  const current = (): Map<string, MetricFamily> => {
    if (cached === undefined) {
      cached = new Map(read().map((family) => [family.name, family]));
      queueMicrotask(() => (cached = undefined));
    }
    return cached;
  };
  const families = [...current().values()];
  for (const { name } of families) {
    if (registry.getSingleMetric(name) !== undefined) throw new MetricNameTakenError(name);
  }
  const registered = families.map(
    ({ name, help, type }): RegisteredFamily => ({
      // prom-client renames counters for OpenMetrics (it drops `_total` and appends it to each
      // sample), so the reported name is read back from the registered object.
      name,
      help,
      type,
      aggregator: 'sum',
      async get() {
        return {
          name: this.name,
          help,
          type,
          aggregator: 'sum',
          values: (current().get(name)?.samples ?? []).map((sample) => ({
            ...(sample.suffix === undefined ? {} : { metricName: this.name + sample.suffix }),
            labels: { ...sample.labels },
            value: sample.value,
          })),
        };
      },
      // The values are read from the pool, not accumulated here: there is nothing to reset.
      reset: () => {},
    }),
  );
  for (const family of registered) registry.registerMetric(family);
  return () => {
    for (const { name } of families) registry.removeSingleMetric(name);
  };
}
