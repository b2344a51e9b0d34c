// npm start: a stream of JSON-RPC tool calls processed by viscose's ParallelProcessor and, side by
// side in the same run, by piscina; then the specification's four criteria for both.
//
// Every number is measured the same way for both engines, from what the shared handler reports
// (when it started, how long it ran) and from the wall clock; demo/README.md explains each.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { FRAME, StreamOutcome, piscina, viscose } from './contenders.mjs';
import { makePings, makeToolCalls } from './requests.mjs';
import { idealSplit } from './ideal-split.mjs';
import { handleToolCall } from './rpc.mjs';

const USAGE = `usage: npm start -- [options]
  --requests N          tool calls in each round's stream (default 8000)
  --pings N             MCP pings in each round, for the engines' own cost per request (default 50000)
  --rounds N            rounds; each engine runs every stream once a round (default 3)
  --threads N           worker threads of each engine (default: the CPUs, ${availableParallelism()})
  --batch-size N        requests per chunk for viscose (default 64)
  --workload W          tools, pings or both (default both)
  --latency-requests N  calls sent one at a time for the dispatch latency (default 2000)`;

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '8000' },
    pings: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'batch-size': { type: 'string', default: '64' },
    workload: { type: 'string', default: 'both' },
    'latency-requests': { type: 'string', default: '2000' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name) => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} expects a positive integer, got ${flags[name]}\n${USAGE}`);
  return value;
};
if (!['tools', 'pings', 'both'].includes(flags.workload)) throw new Error(`--workload expects tools, pings or both\n${USAGE}`);
const settings = {
  threads: count('threads'),
  batchSize: count('batch-size'),
  // Requests in flight at most, for both engines: sixteen frames of the stream.
  window: 16 * FRAME,
};
const rounds = count('rounds');
const runTools = flags.workload !== 'pings';
/** How long each engine handles pings before anything is measured. */
const WARM_UP_MS = 2_000;
const runPings = flags.workload !== 'tools';
const latencyCount = count('latency-requests');

// ---- progress ------------------------------------------------------------------------------------

const interactive = process.stderr.isTTY;

/**
 * Runs `body(progress)` behind a progress bar of `total` steps (a line of text when stderr is not
 * a terminal); resolves with its result and wall time.
 */
async function phase(label, total, body) {
  const bar = interactive
    ? new cliProgress.SingleBar(
        { format: ` ${label.padEnd(36)} |{bar}| {percentage}% {value}/{total}`, hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0);
  const started = performance.now();
  const result = await body((done) => bar?.update(done));
  const wallMs = performance.now() - started;
  bar?.update(total);
  bar?.stop();
  if (!interactive) console.error(` ${label}: ${(wallMs / 1000).toFixed(2)} s`);
  return { result, wallMs };
}

// ---- measurements --------------------------------------------------------------------------------

/**
 * The stream handled on the main thread alone: the reference responses, the sequential time, and
 * each request's handler time (what the ideal split balances its shares by).
 */
function sequential(requests, progress) {
  const outcome = new StreamOutcome(requests.length);
  const costs = new Float64Array(requests.length);
  requests.forEach((raw, index) => {
    const started = performance.now();
    try {
      outcome.succeeded(index, handleToolCall(raw));
    } catch {
      outcome.failedAt(index);
    }
    costs[index] = performance.now() - started;
    if (index % FRAME === 0) progress(index);
  });
  return { outcome, costs };
}

function digest(responses) {
  const hash = createHash('sha256');
  for (const response of responses) hash.update(`${JSON.stringify(response)}\n`);
  return hash.digest('hex');
}

/**
 * Handed to the engine → handler started, for requests sent one at a time (a free worker waiting).
 * The first quarter of the calls warms up this call pattern and is not recorded.
 */
async function dispatchLatency(engine, requests, progress) {
  const histogram = createHistogram();
  let skewed = 0;
  for (let i = 0; i < requests.length >> 2; i++) await engine.one(requests[i]).catch(() => {});
  for (let i = 0; i < requests.length; i++) {
    const sentAt = performance.timeOrigin + performance.now();
    try {
      const { startedAt } = await engine.one(requests[i]);
      const nanos = Math.round((startedAt - sentAt) * 1e6);
      if (nanos < 0) skewed++;
      histogram.record(Math.max(1, nanos));
    } catch {
      // A request whose tool broke reports no start time; its neighbours do.
    }
    if (i % 64 === 0) progress(i);
  }
  return { p50Us: histogram.percentile(50) / 1000, p99Us: histogram.percentile(99) / 1000, skewed };
}

/** Opens an engine and warms it up, the same for every engine. */
async function open(make) {
  const engine = await make(settings);
  // The whole tool-call stream once (the workers' JIT optimises the handler over thousands of
  // calls, as the main thread's does in the sequential warm-up), then pings for WARM_UP_MS (the JIT
  // keeps improving the engine's hot paths on the main thread for a second or two).
  await engine.stream(tools, () => {});
  for (const until = performance.now() + WARM_UP_MS; performance.now() < until; ) await engine.stream(pings.slice(0, 20_000), () => {});
  return engine;
}

/** One round of the tool-call stream through `engine`: its wall time, utilisation and answers. */
async function toolRound(engine, round, row) {
  engine.processor?.resetStatistics();
  const { result, wallMs } = await phase(
    `${engine.name}: ${number(tools.length)} tool calls, round ${round + 1}`,
    tools.length,
    (progress) => engine.stream(tools, progress),
  );
  if (digest(result.responses) !== references.digest)
    throw new Error(`${engine.name} answered the tool calls differently from the main thread`);
  row.tools.push({ wallMs, utilisation: result.handlerMs / (settings.threads * wallMs), own: engine.processor?.statistics() });
}

/** The main thread's CPU time so far in microseconds, where the runtime can tell it apart (Node ≥ 23.9). */
const mainThreadCpu = () => {
  const usage = process.threadCpuUsage?.();
  return usage === undefined ? Number.NaN : usage.user + usage.system;
};

async function pingRound(engine, round, row) {
  const cpuBefore = mainThreadCpu();
  const { result, wallMs } = await phase(`${engine.name}: ${number(pings.length)} pings, round ${round + 1}`, pings.length, (progress) =>
    engine.stream(pings, progress),
  );
  if (digest(result.responses) !== references.pingDigest)
    throw new Error(`${engine.name} answered the pings differently from the main thread`);
  row.pingRates.push(pings.length / (wallMs / 1000));
  row.pingCpu.push((mainThreadCpu() - cpuBefore) / pings.length);
}

async function dispatchRow(engine, row) {
  if (runTools) {
    row.toolsDispatch = (
      await phase(`${engine.name}: tool calls one at a time`, latencyCount, (progress) =>
        dispatchLatency(engine, tools.slice(0, latencyCount), progress),
      )
    ).result;
  }
  if (runPings) {
    row.pingDispatch = (
      await phase(`${engine.name}: pings one at a time`, latencyCount, (progress) =>
        dispatchLatency(engine, pings.slice(0, latencyCount), progress),
      )
    ).result;
  }
}

// ---- the run -------------------------------------------------------------------------------------

const number = (value, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const tools = makeToolCalls(runTools ? count('requests') : 2_000);
const pings = makePings(runPings ? count('pings') : 20_000);
console.error(
  `\nviscose demo: JSON-RPC tool calls through viscose and piscina, ${settings.threads} worker threads each, ` +
    `${rounds} round${rounds === 1 ? '' : 's'}, Node ${process.version}\n`,
);

/** The tool calls on the main thread alone: the sequential time (and the reference answers). */
async function reference(label) {
  const { result, wallMs } = await phase(`main thread alone: ${number(tools.length)} tool calls, ${label}`, tools.length, (progress) =>
    sequential(tools, progress),
  );
  return { wallMs, ...result };
}

const references = {};
/** Sequential times: before the first round and after each. */
const sequentialMs = [];
let costs;
if (runTools) {
  // JIT warm-up: a handler run a few thousand times keeps getting faster, and a reference measured
  // cold would flatter every engine measured after it.
  sequential(tools, () => {});
  const first = await reference('before round 1');
  references.digest = digest(first.outcome.responses);
  references.failed = first.outcome.failed;
  references.errors = first.outcome.responses.filter((response) => response.error).length;
  sequentialMs.push(first.wallMs);
  costs = first.costs;
}
if (runPings) references.pingDigest = digest(sequential(pings, () => {}).outcome.responses);

const engines = [];
for (const make of [viscose, piscina]) engines.push(await open(make));
const rows = engines.map((engine) => ({ name: engine.name, tools: [], pingRates: [], pingCpu: [] }));
const split = runTools ? await idealSplit(settings) : undefined;
const splitRounds = [];
if (split !== undefined) await split.run(tools, costs); // JIT warm-up, like the engines'
for (let round = 0; round < rounds; round++) {
  if (runTools) {
    const { result, wallMs } = await phase(`ideal split: ${number(tools.length)} tool calls, round ${round + 1}`, tools.length, () =>
      split.run(tools, costs),
    );
    if (digest(result.responses) !== references.digest)
      throw new Error('the ideal split answered the tool calls differently from the main thread');
    splitRounds.push({ wallMs, utilisation: result.handlerMs / (settings.threads * wallMs) });
    for (const [i, engine] of engines.entries()) await toolRound(engine, round, rows[i]);
    sequentialMs.push((await reference(`after round ${round + 1}`)).wallMs);
  }
  if (runPings) for (const [i, engine] of engines.entries()) await pingRound(engine, round, rows[i]);
}
for (const [i, engine] of engines.entries()) {
  await dispatchRow(engine, rows[i]);
  await engine.close();
}
await split?.close();

/** The middle value (the mean of the middle two for an even count). */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/**
 * A shared machine's speed drifts: each round's efficiency is against the mean of the sequential
 * runs just before and just after it, and a figure is the median of the rounds' (their range shown).
 */
const summary = (values) => ({ median: median(values), low: Math.min(...values), high: Math.max(...values) });
function toolFigures(measured) {
  const efficiencies = measured.map(
    ({ wallMs }, round) => (sequentialMs[round] + sequentialMs[round + 1]) / 2 / (settings.threads * wallMs),
  );
  return {
    rate: summary(measured.map(({ wallMs }) => tools.length / (wallMs / 1000))),
    utilisation: summary(measured.map(({ utilisation }) => utilisation)),
    efficiency: summary(efficiencies),
  };
}
if (runTools) {
  for (const row of rows) Object.assign(row, toolFigures(row.tools));
  Object.assign(split, toolFigures(splitRounds));
}

// ---- the table -----------------------------------------------------------------------------------

const [ours, theirs] = rows;
const percent = (value) => `${number(value * 100, 1)} %`;
/** A median with the rounds' range: `96.1 % (94.0–97.2)`. */
const spread = (figure, format, unit = '') =>
  rounds === 1 ? `${format(figure.median)}${unit}` : `${format(figure.median)}${unit} (${format(figure.low)}–${format(figure.high)})`;
const percentSpread = (figure) => spread(figure, (value) => number(value * 100, 1), ' %');
/** ✓✓ meets the target, ✓ meets the floor, ✗ below the floor. */
const mark = (meetsTarget, meetsFloor) => (meetsTarget ? '✓✓' : meetsFloor ? '✓' : '✗');
const pingRatios = runPings ? summary(ours.pingRates.map((rate, round) => rate / theirs.pingRates[round])) : undefined;

const lines = [['criterion', 'floor', 'target', 'viscose', 'piscina', ...(runTools ? ['ideal split (the machine)'] : [])]];
const none = runTools ? ['—'] : [];
const dispatchLines = (what, of) => [
  [
    `dispatch latency p99, ${what}`,
    '< 1,000 µs',
    '≤ 50 µs',
    ...rows.map((r) => `${number(of(r).p99Us, 1)} µs ${mark(of(r).p99Us <= 50, of(r).p99Us < 1000)}`),
    ...none,
  ],
  ['  (p50)', '', '', ...rows.map((r) => `${number(of(r).p50Us, 1)} µs`), ...none],
];
if (runTools) {
  lines.push(
    [
      'throughput, tool calls',
      '≥ 2,000 req/s',
      '',
      ...[...rows, split].map((r) => `${spread(r.rate, number, ' req/s')}${r === split ? '' : ` ${mark(false, r.rate.median >= 2000)}`}`),
    ],
    ...dispatchLines('tool calls', (r) => r.toolsDispatch),
    [
      'worker utilisation',
      '> 80 %',
      '≥ 95 %',
      ...[...rows, split].map((r) => `${percentSpread(r.utilisation)} ${mark(r.utilisation.median >= 0.95, r.utilisation.median > 0.8)}`),
    ],
    [
      'batch efficiency',
      '> 90 %',
      '≥ 95 %',
      ...[...rows, split].map((r) => `${percentSpread(r.efficiency)} ${mark(r.efficiency.median >= 0.95, r.efficiency.median > 0.9)}`),
    ],
  );
}
if (runPings) {
  lines.push(
    [
      'throughput, pings',
      '',
      '≥ 20× piscina',
      `${spread(summary(ours.pingRates), number, ' req/s')} = ${spread(pingRatios, (value) => number(value, 1), '×')} ${mark(pingRatios.median >= 20, true)}`,
      spread(summary(theirs.pingRates), number, ' req/s'),
      ...none,
    ],
    ...dispatchLines('pings', (r) => r.pingDispatch),
  );
}
const widths = lines[0].map((_, column) => Math.max(...lines.map((line) => [...line[column]].length)));
const render = (line) => `| ${line.map((cell, column) => cell.padEnd(widths[column] + cell.length - [...cell].length)).join(' | ')} |`;
console.log(`\n${render(lines[0])}\n|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
for (const line of lines.slice(1)) console.log(render(line));

console.log(
  `\n✓✓ meets the target, ✓ meets the floor, ✗ below the floor, judged by the median of ${rounds} round${rounds === 1 ? '' : 's'} ` +
    '(the range of the rounds in brackets).',
);
if (runTools) {
  console.log(
    `${number(tools.length)} tool calls a round (${references.errors} answered with a JSON-RPC error, ${references.failed} whose tool broke): ` +
      "every response of both engines, every round, equals the main thread's.",
  );
  console.log(
    `Main thread alone: ${sequentialMs.map((ms) => `${number(ms)} ms`).join(', ')}, before the first round and after each. ` +
      "Efficiency = the mean of the sequential runs around a round / (threads × the round's wall time); " +
      'utilisation = time in the handler / (threads × wall time).',
  );
  console.log(
    'The ideal split is no engine: each thread is handed, in one message, a share of the requests balanced by their measured ' +
      'handler times, and runs it alone. What it misses of 100 % is the machine: threads that slow each other down, and the ' +
      "machine's drift between the sequential runs and the round.",
  );
  console.log(machineVerdict());
  const own = ours.tools.map((round) => round.own);
  console.log(
    `viscose's own statistics for the same rounds: pool utilisation ${percentSpread(summary(own.map((o) => o.pool.utilisation)))}, ` +
      `batch efficiency ${percentSpread(summary(own.map((o) => o.batches.efficiency.overall)))} (frames overlapping), ` +
      `${number(median(own.map((o) => o.pool.submitted)))} chunks of up to ${settings.batchSize} requests a round, ` +
      `${number(median(own.map((o) => o.pool.steals)))} stolen.`,
  );
}
if (runPings && !Number.isNaN(ours.pingCpu[0])) {
  console.log(
    `Pings: main-thread CPU per request ${rows.map((r) => `${r.name} ${number(median(r.pingCpu), 2)} µs`).join(', ')} ` +
      "(process.threadCpuUsage over each round): the main thread's own work per request is what bounds the ratio.",
  );
}
const skewed = rows.reduce((sum, r) => sum + (r.toolsDispatch?.skewed ?? 0) + (r.pingDispatch?.skewed ?? 0), 0);
console.log(
  `Dispatch latency: from the call to the handler starting on a worker, ${number(latencyCount)} calls sent one after another` +
    (skewed > 0 ? ` (${skewed} readings below 0 from clock skew between threads, counted as 0).` : '.'),
);
console.log('One run on a shared machine: npm run bench measures the engines with rounds and ranges.');

/**
 * Says whose a batch-efficiency shortfall is: the points by which the ideal split misses the mark
 * too are the machine's; the points by which viscose falls below the ideal split are viscose's.
 */
function machineVerdict() {
  const ideal = split.efficiency.median;
  const reached = ours.efficiency.median;
  const points = (value) => number(value * 100, 1);
  const [mark, what] = reached < 0.9 ? [0.9, 'floor'] : [0.95, 'target'];
  if (reached >= mark) return `Batch efficiency: viscose ${percent(reached)}, the ideal split ${percent(ideal)}.`;
  const machine = Math.min(mark - reached, Math.max(0, mark - ideal));
  return (
    `Batch efficiency: viscose ${percent(reached)}, below the ${what} (${percent(mark)}) by ${points(mark - reached)} points: ` +
    `${points(machine)} of them the machine's (the ideal split, with no engine at all, reached ${percent(ideal)}), ` +
    `${points(mark - reached - machine)} viscose's.`
  );
}
