// The workload registry. Every contender runs every workload it can (see `needs` and the
// contenders' `lacks`), in this order, each in the same child process after a warm-up of its own.
import { performance } from 'node:perf_hooks';
import { percentile } from './stats.mjs';
import { checkTrivialResult, checkTrivialResults, trivialRequests } from './trivial-requests.mjs';

/**
 * Each entry:
 * - `id`, `title`: how the report names it;
 * - `needs`: a capability the contender must have, if any (see `lacks` in contenders.mjs);
 * - `sizes`: `{ count, warmup }` per profile; the warm-up runs `measure` itself on `warmup` items,
 *   so the JIT has seen exactly the measured code path;
 * - `columns`: the metrics shown in the tables: `better` says which direction wins, and
 *   `baselineFallback` names the baseline's cell to divide by when the baseline lacks this one;
 * - `measure(pool, count)`: runs it once on a pool adapter, checks every result, returns metrics.
 */
export const workloads = [
  {
    id: 'A.single',
    title: 'trivial tasks, one call each, all submitted in one synchronous loop, then Promise.all',
    sizes: { full: { count: 100_000, warmup: 20_000 }, quick: { count: 20_000, warmup: 5_000 } },
    columns: [{ key: 'tasksPerSecond', label: 'A single', unit: 'tasks/s', better: 'higher' }],
    async measure(pool, count) {
      const trivial = pool.task('trivial');
      const requests = trivialRequests(count);
      const pending = new Array(count);
      const start = performance.now();
      for (let i = 0; i < count; i++) pending[i] = trivial.run(requests[i]);
      const results = await Promise.all(pending);
      const ms = performance.now() - start;
      checkTrivialResults(requests, results);
      return { tasksPerSecond: count / (ms / 1000), ms };
    },
  },
  {
    id: 'A.batch',
    title: 'the same trivial tasks through one batch call',
    needs: 'batch',
    sizes: { full: { count: 100_000, warmup: 20_000 }, quick: { count: 20_000, warmup: 5_000 } },
    columns: [
      {
        key: 'tasksPerSecond',
        label: 'A batch',
        unit: 'tasks/s',
        better: 'higher',
        baselineFallback: { cell: 'A.single/tasksPerSecond', why: 'the baseline has no batch call, so this divides by its single-call rate' },
      },
    ],
    async measure(pool, count) {
      const trivial = pool.task('trivial');
      const requests = trivialRequests(count);
      const start = performance.now();
      const results = await trivial.runBatch(requests);
      const ms = performance.now() - start;
      checkTrivialResults(requests, results);
      return { tasksPerSecond: count / (ms / 1000), ms };
    },
  },
  {
    id: 'B',
    title: 'sequential round trips: one trivial task at a time, each awaited',
    sizes: { full: { count: 5_000, warmup: 1_000 }, quick: { count: 1_000, warmup: 300 } },
    columns: [
      { key: 'p50Micros', label: 'B p50', unit: 'µs', better: 'lower' },
      { key: 'p99Micros', label: 'B p99', unit: 'µs', better: 'lower' },
      { key: 'maxMicros', label: 'B max', unit: 'µs', better: 'lower' },
    ],
    async measure(pool, count) {
      const trivial = pool.task('trivial');
      const requests = trivialRequests(count);
      const micros = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const start = performance.now();
        const result = await trivial.run(requests[i]);
        micros[i] = (performance.now() - start) * 1000;
        checkTrivialResult(requests[i], result, i);
      }
      const samples = Array.from(micros);
      return {
        p50Micros: percentile(samples, 50),
        p99Micros: percentile(samples, 99),
        maxMicros: percentile(samples, 100),
        meanMicros: samples.reduce((sum, value) => sum + value, 0) / count,
      };
    },
  },
];

/** Where a column's values live in a child's result: `workloadId/metricKey`. */
export function cellId(workload, column) {
  return `${workload.id}/${column.key}`;
}

/** Every column of every workload, with its workload and cell id, in table order. */
export const allColumns = workloads.flatMap((workload) =>
  workload.columns.map((column) => ({ ...column, workload, cell: cellId(workload, column) })),
);
