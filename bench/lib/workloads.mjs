// The workload registry. Every contender runs every workload it can (see `needs` and the
// contenders' `lacks`), in this order, each in the same child process after a warm-up of its own.
import { performance } from 'node:perf_hooks';
import { unitIterations } from './calibrate.mjs';
import { mainThreadCpu } from './cpu-meter.mjs';
import { FIB_CUTOFF, fibSequential } from './kernels.mjs';
import { THREADS } from './profiles.mjs';
import { mean, percentile } from './stats.mjs';
import { cpu, handleRequest } from './tasks.mjs';
import { checkTrivialResult, checkTrivialResults, trivialRequests } from './trivial-requests.mjs';

/** Workload E's recursion: fib(n), joined above the fork-join runner's cut-off. */
const FIB = { n: 30, cutoff: FIB_CUTOFF };

/**
 * Each entry:
 * - `id`, `title`: how the report names it;
 * - `needs`: a capability the contender must have, if any (see `lacks` in contenders.mjs);
 * - `sizes`: `{ count, warmup }` per profile; the warm-up runs `measure` itself on `warmup` items,
 *   so the JIT has seen exactly the measured code path; `warmupMs`, if given, replaces the
 *   profile's minimum warm-up time for this workload (the same for every contender);
 * - `columns`: the metrics shown in the tables: `better` says which direction wins, and
 *   `baselineFallback` names the baseline's cell to divide by when the baseline lacks this one;
 * - `measure(pool, count)`: runs it once on a pool adapter, checks every result, returns metrics.
 */
export const workloads = [
  {
    id: 'A.single',
    needs: 'calls',
    title: 'trivial tasks, one call each, all submitted in one synchronous loop, then Promise.all',
    sizes: { full: { count: 100_000, warmup: 20_000 }, quick: { count: 20_000, warmup: 5_000 } },
    columns: [
      { key: 'tasksPerSecond', label: 'A single', unit: 'tasks/s', better: 'higher' },
      { key: 'mainCpuMicrosPerCall', label: 'A main CPU/call', unit: 'µs', better: 'lower' },
    ],
    async measure(pool, count) {
      const trivial = pool.task('trivial');
      const requests = trivialRequests(count);
      const pending = new Array(count);
      const mainCpu = mainThreadCpu();
      const cpuBefore = mainCpu?.read();
      const start = performance.now();
      for (let i = 0; i < count; i++) pending[i] = trivial.run(requests[i]);
      const results = await Promise.all(pending);
      const ms = performance.now() - start;
      const mainCpuMicros = mainCpu === null ? undefined : mainCpu.read() - cpuBefore;
      checkTrivialResults(requests, results);
      return {
        tasksPerSecond: count / (ms / 1000),
        ms,
        ...(mainCpuMicros === undefined ? {} : { mainCpuMicrosPerCall: mainCpuMicros / count, mainCpuMethod: mainCpu.method }),
      };
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
        baselineFallback: {
          cell: 'A.single/tasksPerSecond',
          why: 'the baseline has no batch call, so this divides by its single-call rate',
        },
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
    needs: 'calls',
    title: 'sequential round trips: one trivial task at a time, each awaited',
    sizes: { full: { count: 5_000, warmup: 1_000 }, quick: { count: 1_000, warmup: 300 } },
    columns: [
      { key: 'p50Micros', label: 'B p50', unit: 'µs', better: 'lower' },
      { key: 'p99Micros', label: 'B p99', unit: 'µs', better: 'lower' },
      { key: 'p999Micros', label: 'B p99.9', unit: 'µs', better: 'lower' },
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
        p999Micros: percentile(samples, 99.9),
        maxMicros: percentile(samples, 100),
        meanMicros: mean(samples),
      };
    },
  },
  {
    id: 'C',
    title: `CPU-bound tasks of about 2 ms each (calibrated once per run), all submitted at once: parallel efficiency, the same tasks run one after another on the main thread over ${THREADS} × the wall time`,
    needs: 'parallel',
    sizes: { full: { count: 400, warmup: 40 }, quick: { count: 100, warmup: 20 } },
    warmupMs: { full: 500, quick: 200 },
    columns: [
      { key: 'efficiency', label: 'C eff.', unit: '%', better: 'higher' },
      { key: 'ms', label: 'C wall', unit: 'ms', better: 'lower' },
    ],
    measure: (pool, count) => measureCpuBound(pool, new Array(count).fill(1)),
  },
  {
    id: 'D',
    title:
      'skewed CPU-bound tasks: 10 % of them cost 20 units, the rest 1 (a unit is the 2 ms task), in a fixed shuffled order: where balancing the load matters',
    needs: 'parallel',
    sizes: { full: { count: 200, warmup: 20 }, quick: { count: 60, warmup: 20 } },
    warmupMs: { full: 500, quick: 200 },
    columns: [
      { key: 'efficiency', label: 'D eff.', unit: '%', better: 'higher' },
      { key: 'ms', label: 'D wall', unit: 'ms', better: 'lower' },
    ],
    measure: (pool, count) => measureCpuBound(pool, skewedUnits(count)),
  },
  {
    id: 'E',
    title: `fork-join: fib(${FIB.n}) with join above n = ${FIB.cutoff}, each run awaited alone, against the same fib(${FIB.n}) run sequentially on the child's main thread just before (one task is one fib(${FIB.n})): speedup = sequential time / pool time`,
    needs: 'join',
    sizes: { full: { count: 20, warmup: 4 }, quick: { count: 5, warmup: 2 } },
    columns: [{ key: 'speedup', label: 'E fib speedup', unit: '×', better: 'higher' }],
    async measure(pool, count) {
      const fib = pool.task('fib');
      let start = performance.now();
      const expected = [];
      for (let i = 0; i < count; i++) expected.push(fibSequential(FIB.n));
      const sequentialMs = performance.now() - start;
      const results = [];
      start = performance.now();
      for (let i = 0; i < count; i++) results.push(await fib.run(FIB.n, FIB.cutoff));
      const ms = performance.now() - start;
      for (let i = 0; i < count; i++) {
        if (results[i] !== expected[i]) throw new Error(`fib(${FIB.n}) run ${i} returned ${results[i]}, expected ${expected[i]}`);
      }
      return { speedup: sequentialMs / ms, ms, sequentialMs };
    },
  },
  {
    id: 'H',
    title:
      "a stream of JSON-RPC-like requests through viscose's ParallelProcessor (chunks of 64): 90 % pings, 10 % of 2 ms work: throughput, worker utilisation and batch efficiency (the processor's own statistics); then 1,000 pings one at a time: dispatch latency",
    needs: 'processor',
    sizes: { full: { count: 20_000, warmup: 2_000 }, quick: { count: 5_000, warmup: 1_000 } },
    // Longer than the others: a request loop keeps improving for several thousand pings (the
    // workers' and the processor's code paths are compiled late), and each run here is long.
    warmupMs: { full: 3_000, quick: 300 },
    columns: [
      { key: 'requestsPerSecond', label: 'H', unit: 'req/s', better: 'higher' },
      { key: 'dispatchP99Micros', label: 'H dispatch p99', unit: 'µs', better: 'lower' },
      { key: 'utilisation', label: 'H utilisation', unit: '%', better: 'higher' },
      { key: 'batchEfficiency', label: 'H batch eff.', unit: '%', better: 'higher' },
    ],
    async measure(pool, count) {
      const iterations = unitIterations();
      const requests = Array.from({ length: count }, (_, id) =>
        id % 10 === 9 ? { id, method: 'work', n: iterations, seed: id } : { id, method: 'ping' },
      );
      const processor = await pool.processor('handleRequest');
      processor.resetStatistics();
      const start = performance.now();
      const results = await processor.executeChunkedParallel(requests);
      const ms = performance.now() - start;
      const stream = processor.statistics();
      // Dispatch latency apart, with pings sent one at a time: in the stream above it would be
      // the time a request waits behind the others, not the cost of handing it to a worker.
      processor.resetStatistics();
      for (let i = 0; i < Math.min(count, 1_000); i++) await processor.process({ id: i, method: 'ping' });
      const dispatch = processor.statistics().pool.dispatchLatency;
      for (let i = 0; i < count; i++) {
        const result = results[i];
        const expected = handleRequest(requests[i]);
        if (!result.ok || result.value.id !== expected.id || result.value.hash !== expected.hash)
          throw new Error(`request ${i} came back wrong`);
      }
      return {
        requestsPerSecond: count / (ms / 1000),
        dispatchP99Micros: dispatch.p99Us,
        dispatchP50Micros: dispatch.p50Us,
        utilisation: 100 * stream.pool.utilisation,
        batchEfficiency: 100 * stream.batches.efficiency.overall,
        ms,
      };
    },
  },
];

/**
 * Runs tasks of the given costs (in units) one after another on the main thread, then all at once
 * on the pool; checks every result against the sequential one. Efficiency is the sequential time
 * over THREADS × the pool's wall time, in percent.
 */
async function measureCpuBound(pool, units) {
  const iterations = unitIterations();
  const requests = units.map((cost, seed) => ({ n: cost * iterations, seed }));
  let start = performance.now();
  const expected = requests.map(cpu);
  const sequentialMs = performance.now() - start;
  const task = pool.task('cpu');
  start = performance.now();
  // runAll: the ideal split (contenders.mjs), which hands each thread its whole share at once.
  const results = await (task.runAll?.(requests) ?? Promise.all(requests.map((request) => task.run(request))));
  const ms = performance.now() - start;
  for (let i = 0; i < requests.length; i++) {
    if (results[i] !== expected[i]) throw new Error(`cpu task ${i} returned ${results[i]}, expected ${expected[i]}`);
  }
  return {
    efficiency: (100 * sequentialMs) / (THREADS * ms),
    ms,
    sequentialMs,
    units: units.reduce((a, b) => a + b, 0),
    unitIterations: iterations,
  };
}

/** `count` costs, a tenth of them 20 and the rest 1, shuffled by a fixed seed (Fisher–Yates, mulberry32). */
function skewedUnits(count) {
  const units = Array.from({ length: count }, (_, i) => (i < count / 10 ? 20 : 1));
  let state = 42;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [units[i], units[j]] = [units[j], units[i]];
  }
  return units;
}

/** Where a column's values live in a child's result: `workloadId/metricKey`. */
export function cellId(workload, column) {
  return `${workload.id}/${column.key}`;
}

/** Every column of every workload, with its workload and cell id, in table order. */
export const allColumns = workloads.flatMap((workload) =>
  workload.columns.map((column) => ({ ...column, workload, cell: cellId(workload, column) })),
);
