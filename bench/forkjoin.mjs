// The fork-join benchmarks: what viscose's join and parallel iterators gain over the same code run
// sequentially on the main thread. `node bench/forkjoin.mjs [--quick]` (via `npm run
// bench:forkjoin` / `npm run bench:forkjoin:quick`); `--only <text>` runs the workloads whose name
// holds it (`--only sort`). No other Node.js pool can nest tasks, so the
// comparison is with the sequential kernel itself; bench/README.md ("Fork-join") has the method.
//
// One process: the main thread runs the sequential kernels, a 1-thread and a 2-thread pool run the
// parallel ones. Contenders take turns run by run, in an order that rotates;
// every run's result is checked against the sequential one after the timer stops.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { ThreadPool } from 'viscose';
import { barChart } from './lib/bar-chart.mjs';
import { describeEnvironment, formatRuntime } from './lib/environment.mjs';
import {
  FIB_CUTOFF,
  fibSequential,
  fillIntegers,
  fillRandom,
  fillRandomFloat,
  mapSequential,
  quicksortSequential,
  sumSequential,
  transform,
} from './lib/kernels.mjs';
import { median, spread } from './lib/stats.mjs';

const profiles = {
  full: {
    rounds: 5,
    runsPerRound: 5,
    warmupMs: 3000,
    fibN: 34,
    sortLength: 5_000_000,
    iterLength: 20_000_000,
    parSortLength: 10_000_000,
    joins: 200_000,
  },
  quick: {
    rounds: 3,
    runsPerRound: 2,
    warmupMs: 300,
    fibN: 30,
    sortLength: 1_000_000,
    iterLength: 4_000_000,
    parSortLength: 1_000_000,
    joins: 50_000,
  },
};
const SORT_CUTOFF = 20_000;
const SORT_SEED = 20261129;
/** Pause before each round (see settle). */
const SETTLE_MS = 150;
const MODULE = new URL('./workers/viscose-forkjoin.mjs', import.meta.url);
const RESULTS = new URL('./results/', import.meta.url);

const profileName = process.argv.includes('--quick') ? 'quick' : 'full';
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const settings = profiles[profileName];
const log = (message) => process.stderr.write(`${message}\n`);

const pools = {
  'viscose, 1 thread': await ThreadPool.create({ module: MODULE, threads: 1 }),
  'viscose, 2 threads': await ThreadPool.create({ module: MODULE, threads: 2 }),
};
const SEQUENTIAL = 'main thread, sequential';
const TWO_THREADS = 'viscose, 2 threads';
const BARE = 'bare worker_threads, halves by hand';
/** The map workload's step given as the plain function rather than the task's name (an inline step). */
const INLINE = 'viscose, 2 threads, inline step';
const bareWorkers = [0, 1].map(() => new Worker(new URL('./workers/bare-split.mjs', import.meta.url)));
/** The sort workloads' unstable sort, beside `parSort` on the same pool. */
const UNSTABLE = 'viscose, 2 threads, parSortUnstable';
const CONTENDERS = [SEQUENTIAL, ...Object.keys(pools), INLINE, UNSTABLE, BARE];

/**
 * Each workload: `prepare()` makes the input of one run (not timed), `contenders` maps a name to a
 * run, and `check` compares a run's output, right after it, with `expected()`, computed once
 * before any timing. Inputs reuse one set of shared buffers rather than allocate per run: viscose
 * keeps every SharedArrayBuffer it has sent to workers (see docs/guide/pool.md, "Shared memory travels by reference"),
 * and the map workload's output alone is 160 MB.
 */
const workloads = [
  {
    name: `fib(${settings.fibN}), join above n = ${FIB_CUTOFF}`,
    target: { speedup: 1.8 },
    prepare: () => undefined,
    expected: once(() => fibSequential(settings.fibN)),
    contenders: {
      [SEQUENTIAL]: async () => fibSequential(settings.fibN),
      ...mapPools((pool) => () => pool.run('fib', settings.fibN, FIB_CUTOFF)),
    },
    check: (result, expected) => result === expected,
  },
  {
    name: `quicksort of ${settings.sortLength.toLocaleString('en')} Int32 in shared memory, join above ${SORT_CUTOFF.toLocaleString('en')}`,
    target: { speedup: 1.6 },
    prepare: (() => {
      const values = once(() => new Int32Array(new SharedArrayBuffer(4 * settings.sortLength)));
      return () => {
        fillRandom(values(), SORT_SEED);
        return values();
      };
    })(),
    expected: once(() => {
      const values = new Int32Array(settings.sortLength);
      fillRandom(values, SORT_SEED);
      return values.sort();
    }),
    contenders: {
      [SEQUENTIAL]: async (values) => {
        quicksortSequential(values, 0, values.length, SORT_CUTOFF);
        return values;
      },
      ...mapPools((pool) => async (values) => {
        await pool.run('quicksort', values, 0, values.length, SORT_CUTOFF);
        return values;
      }),
    },
    check: (result, expected) => Buffer.from(result.buffer).equals(Buffer.from(expected.buffer)),
  },
  {
    name: `parIter sum of ${settings.iterLength.toLocaleString('en')} shared Float64`,
    target: { speedup: 1.8 },
    prepare: once(() => sharedFloat64(settings.iterLength, fillIntegers)),
    expected: once(() => {
      const values = new Float64Array(settings.iterLength);
      fillIntegers(values);
      return sumSequential(values);
    }),
    contenders: {
      [SEQUENTIAL]: async (values) => sumSequential(values),
      ...mapPools((pool) => (values) => pool.parIter(values).sum()),
      [BARE]: async (values) => (await onBothHalves({ op: 'sum', values })).reduce((a, b) => a + b),
    },
    // Integer values: the sum is exact in any order of addition.
    check: (result, expected) => result === expected,
  },
  {
    name: `parIter map of ${settings.iterLength.toLocaleString('en')} shared Float64 into shared memory`,
    target: { speedup: 1.8 },
    prepare: (() => {
      const input = once(() => sharedFloat64(settings.iterLength, fillIntegers));
      const output = once(() => new Float64Array(new SharedArrayBuffer(8 * settings.iterLength)));
      return () => {
        // Cleared, so that a run that wrote nothing cannot pass on an earlier run's output.
        output().fill(0);
        return { values: input(), out: output() };
      };
    })(),
    expected: once(() => {
      const values = new Float64Array(settings.iterLength);
      fillIntegers(values);
      const out = new Float64Array(settings.iterLength);
      mapSequential(values, out);
      return out;
    }),
    contenders: {
      [SEQUENTIAL]: async ({ values, out }) => {
        mapSequential(values, out);
        return out;
      },
      ...mapPools((pool) => async ({ values, out }) => {
        await pool.parIter(values).map('transform').collectInto(out);
        return out;
      }),
      // The kernel the task module exports, here shipped as source and fused into the loop.
      [INLINE]: async ({ values, out }) => {
        await pools[TWO_THREADS].parIter(values).map(transform).collectInto(out);
        return out;
      },
      [BARE]: async ({ values, out }) => {
        await onBothHalves({ op: 'map', values, out });
        return out;
      },
    },
    check: (result, expected) => Buffer.from(result.buffer).equals(Buffer.from(expected.buffer)),
  },
  ...[
    [Float64Array, fillRandomFloat],
    [Int32Array, fillRandom],
  ].map(([kind, fill]) => sortWorkload(kind, fill)),
].filter((workload) => only === undefined || workload.name.includes(only));

/**
 * A parallel sort of `parSortLength` seeded random items of `kind` in shared memory: the built-in
 * `TypedArray.prototype.sort` on the main thread (V8's C++ sort) against `pool.parSort` and
 * `pool.parSortUnstable` on 2 threads, each run sorting the same input refilled (not timed).
 */
function sortWorkload(kind, fill) {
  const length = settings.parSortLength;
  const values = once(() => new kind(new SharedArrayBuffer(kind.BYTES_PER_ELEMENT * length)));
  return {
    name: `sort of ${length.toLocaleString('en')} random ${kind.name.replace('Array', '')} in shared memory`,
    target: { speedup: 1.8 },
    prepare: () => {
      fill(values(), SORT_SEED);
      return values();
    },
    expected: once(() => {
      const sorted = new kind(length);
      fill(sorted, SORT_SEED);
      return sorted.sort();
    }),
    contenders: {
      [SEQUENTIAL]: async (input) => input.sort(),
      [TWO_THREADS]: (input) => pools[TWO_THREADS].parSort(input),
      [UNSTABLE]: (input) => pools[TWO_THREADS].parSortUnstable(input),
    },
    check: (result, expected) => Buffer.from(result.buffer).equals(Buffer.from(expected.buffer)),
  };
}

const record = {
  profile: profileName,
  settings,
  environment: describeEnvironment(['viscose', 'msgpackr']),
  workloads: [],
  joinCost: {},
};
try {
  for (const workload of workloads) record.workloads.push(await measureWorkload(workload));
  if (only === undefined) record.joinCost = await measureJoinCost();
} finally {
  await Promise.all(Object.values(pools).map((pool) => pool.close()));
  await Promise.all(bareWorkers.map((worker) => worker.terminate()));
}
const outputName = `${profileName === 'full' ? 'forkjoin' : 'forkjoin-quick'}${only === undefined ? '' : `-${only.replace(/\W+/g, '-')}`}`;
mkdirSync(RESULTS, { recursive: true });
writeFileSync(new URL(`${outputName}.json`, RESULTS), `${JSON.stringify(record, null, 2)}\n`);
const report = renderReport(record);
writeFileSync(new URL(`${outputName}.md`, RESULTS), report);
writeFileSync(new URL(`${outputName}.svg`, RESULTS), speedupChart(record));
process.stdout.write(report);
if (record.workloads.some((workload) => workload.failures.length > 0)) process.exitCode = 1;

/** One bar per workload and contender: its speedup over the sequential code (median, min–max per round). */
function speedupChart({ workloads: measured }) {
  const bars = measured.flatMap((workload) =>
    Object.entries(workload.roundSpeedups).map(([name, stat]) => ({
      name: `${workload.name.split(',')[0].slice(0, 22)} · ${name.replace(', halves by hand', '')}`,
      median: workload.speedups[name],
      min: stat.min,
      max: stat.max,
      highlight: name === TWO_THREADS,
    })),
  );
  return barChart({ title: 'Fork-join: speedup over the same code run sequentially', unit: '×', better: 'higher', bars });
}

async function measureWorkload(workload) {
  log(`${workload.name}`);
  const names = Object.keys(workload.contenders);
  workload.expected();
  for (const name of names) await warmUp(workload, name);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const failures = [];
  for (let round = 0; round < settings.rounds; round++) {
    await settle();
    for (let run = 0; run < settings.runsPerRound; run++) {
      // Contenders take turns run by run, in an order that rotates, so that the machine's drift
      // (its speed for memory-bound loops moves by a third from one second to the next) falls on
      // all of them alike.
      const turn = round * settings.runsPerRound + run;
      for (let k = 0; k < names.length; k++) {
        const name = names[(turn + k) % names.length];
        const input = workload.prepare();
        const start = performance.now();
        const output = await workload.contenders[name](input);
        samples[name].push(performance.now() - start);
        if (!workload.check(output, workload.expected())) failures.push(`round ${round + 1}: ${name} gave a wrong result`);
      }
    }
    log(`  round ${round + 1}: ${names.map((name) => `${name} ${samples[name].at(-1).toFixed(1)} ms`).join(', ')}`);
  }
  const medians = Object.fromEntries(names.map((name) => [name, spread(samples[name])]));
  const speedups = Object.fromEntries(
    names.filter((name) => name !== SEQUENTIAL).map((name) => [name, medians[SEQUENTIAL].median / medians[name].median]),
  );
  // Per-round ratios (of the rounds' medians) show how much the speedup itself moved during the run.
  const roundMedian = (name, round) => median(samples[name].slice(round * settings.runsPerRound, (round + 1) * settings.runsPerRound));
  const roundSpeedups = Object.fromEntries(
    names
      .filter((name) => name !== SEQUENTIAL)
      .map((name) => [name, spread(Array.from({ length: settings.rounds }, (_, r) => roundMedian(SEQUENTIAL, r) / roundMedian(name, r)))]),
  );
  return { name: workload.name, target: workload.target, samplesMs: samples, ms: medians, speedups, roundSpeedups, failures };
}

/** Runs the contender for at least warmupMs, so that the measured path is compiled on every thread. */
async function warmUp(workload, name) {
  const start = performance.now();
  let runs = 0;
  while (performance.now() - start < settings.warmupMs || runs < 2) {
    await workload.contenders[name](workload.prepare());
    runs++;
  }
}

/**
 * Before a round: a forced GC rather than one inside a timed run, then a pause in which V8's
 * background threads finish sweeping (on 2 cores they would take CPU from the runs).
 */
async function settle() {
  globalThis.gc?.();
  await sleep(SETTLE_MS);
}

/**
 * The cost of a join, measured inside a worker (see joinCost in the task module). On one thread
 * no half can be stolen: that is the cost of the fork-join protocol itself. On two threads the idle
 * worker steals many of the trivial second halves, and the join then waits for the thief.
 */
async function measureJoinCost() {
  log('join cost');
  const result = {};
  for (const [name, pool] of Object.entries(pools)) {
    await pool.run('joinCost', settings.joins, 3);
    const before = await stealCount(pool);
    const runs = [];
    for (let r = 0; r < settings.rounds; r++) runs.push(await pool.run('joinCost', settings.joins, 5));
    const steals = (await stealCount(pool)) - before;
    result[name] = {
      joinNs: spread(runs.map((run) => run.joinNs)),
      directCallNs: spread(runs.map((run) => run.directNs)),
      stolenShare: steals / (settings.rounds * 5 * settings.joins),
    };
    log(`  ${name}: ${result[name].joinNs.median.toFixed(0)} ns per join`);
  }
  return result;
}

async function stealCount(pool) {
  return (await pool.snapshot()).reduce((sum, worker) => sum + worker.steals, 0);
}

/**
 * The bare reference: each of two workers gets one fixed half by postMessage. (Posting a typed
 * array over a SharedArrayBuffer shares its memory; the structured clone costs microseconds.)
 */
function onBothHalves(message) {
  const half = message.values.length >> 1;
  const ranges = [
    [0, half],
    [half, message.values.length],
  ];
  return Promise.all(
    bareWorkers.map(
      (worker, i) =>
        new Promise((resolve) => {
          worker.once('message', resolve);
          worker.postMessage({ ...message, lo: ranges[i][0], hi: ranges[i][1] });
        }),
    ),
  );
}

function mapPools(makeRun) {
  return Object.fromEntries(Object.entries(pools).map(([name, pool]) => [name, makeRun(pool)]));
}

function once(make) {
  let value;
  return () => (value ??= make());
}

function sharedFloat64(length, fill) {
  const values = new Float64Array(new SharedArrayBuffer(8 * length));
  fill(values);
  return values;
}

function renderReport({ profile, settings: used, environment, workloads: measured, joinCost }) {
  const names = CONTENDERS;
  const ms = (s) => (s === undefined ? '—' : `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`);
  const lines = [
    `# Fork-join benchmarks (${profile}) — on ${formatRuntime(environment.runtime)}`,
    '',
    `${environment.date}, ${environment.cpuModel}, ${environment.availableParallelism} cores, ${formatRuntime(environment.runtime, { engine: true })}, viscose ${environment.packages.viscose} at ${environment.source.commit ?? 'unknown commit'}.`,
    `${used.rounds} rounds of ${used.runsPerRound} runs per contender, contenders taking turns run by run, each contender warmed up for ${used.warmupMs} ms per workload. Times in ms: median (min–max) of all runs.`,
    '',
    `| Workload | ${names.join(' | ')} | speedup, viscose 2 threads (per-round range) | speedup, bare halves | target |`,
    `|---|${names.map(() => '---:').join('|')}|---:|---:|---:|`,
  ];
  for (const workload of measured) {
    const range = workload.roundSpeedups[TWO_THREADS];
    const bare = workload.speedups[BARE];
    lines.push(
      `| ${workload.name} | ${names.map((name) => ms(workload.ms[name])).join(' | ')} | **${workload.speedups[TWO_THREADS].toFixed(2)}×** (${range.min.toFixed(2)}–${range.max.toFixed(2)}) | ${bare === undefined ? '—' : `${bare.toFixed(2)}×`} | ≥ ${workload.target.speedup}× |`,
    );
  }
  const sorts = measured.filter((workload) => workload.speedups[UNSTABLE] !== undefined);
  if (sorts.length > 0) {
    lines.push(
      '',
      '| Sort, 2 threads, against the built-in sort | parSort speedup (per-round range) | parSortUnstable speedup (per-round range) |',
      '|---|---:|---:|',
    );
    const cell = (workload, name) =>
      `${workload.speedups[name].toFixed(2)}× (${workload.roundSpeedups[name].min.toFixed(2)}–${workload.roundSpeedups[name].max.toFixed(2)})`;
    for (const workload of sorts) lines.push(`| ${workload.name} | ${cell(workload, TWO_THREADS)} | ${cell(workload, UNSTABLE)} |`);
  }
  lines.push('', '| Join cost, measured inside a worker | ns per join: median (min–max) | second halves stolen |', '|---|---:|---:|');
  for (const [name, cost] of Object.entries(joinCost)) {
    lines.push(
      `| ${name} | ${cost.joinNs.median.toFixed(0)} (${cost.joinNs.min.toFixed(0)}–${cost.joinNs.max.toFixed(0)}) | ${(cost.stolenShare * 100).toFixed(1)} % |`,
    );
  }
  const failures = measured.flatMap((workload) => workload.failures.map((failure) => `- ${workload.name}: ${failure}`));
  lines.push('', failures.length === 0 ? 'Every result matched the sequential one.' : `**Wrong results:**\n${failures.join('\n')}`, '');
  return lines.join('\n');
}
