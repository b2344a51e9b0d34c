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
import { handleToolCall } from './rpc.mjs';

const USAGE = `usage: npm start -- [options]
  --requests N          tool calls in the stream (default 20000)
  --pings N             MCP pings, for the engines' own cost per request (default 150000)
  --threads N           worker threads of each engine (default: the CPUs, ${availableParallelism()})
  --batch-size N        requests per chunk for viscose (default 64)
  --workload W          tools, pings or both (default both)
  --latency-requests N  calls sent one at a time for the dispatch latency (default 2000)`;

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    pings: { type: 'string', default: '150000' },
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

/** The stream handled on the main thread alone: the reference responses and the sequential time. */
function sequential(requests, progress) {
  const outcome = new StreamOutcome(requests.length);
  requests.forEach((raw, index) => {
    try {
      outcome.succeeded(index, handleToolCall(raw));
    } catch {
      outcome.failedAt(index);
    }
    if (index % FRAME === 0) progress(index);
  });
  return outcome;
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

async function measure(make) {
  const engine = await make(settings);
  const row = { name: engine.name };
  // Warm-up, the same for both engines: every tool and path once, then pings for WARM_UP_MS (the
  // JIT keeps improving the hot paths of the main thread for a second or two).
  await engine.stream(tools.slice(0, 2_000), () => {});
  for (const until = performance.now() + WARM_UP_MS; performance.now() < until; ) await engine.stream(pings.slice(0, 20_000), () => {});
  if (runTools) {
    engine.processor?.resetStatistics();
    const { result, wallMs } = await phase(`${engine.name}: ${tools.length.toLocaleString('en-US')} tool calls`, tools.length, (progress) =>
      engine.stream(tools, progress),
    );
    row.toolsWallMs = wallMs;
    row.toolsRate = tools.length / (wallMs / 1000);
    row.utilisation = result.handlerMs / (settings.threads * wallMs);
    row.toolsDigest = digest(result.responses);
    row.failed = result.failed;
    if (engine.processor) row.own = engine.processor.statistics();
    row.toolsDispatch = (
      await phase(`${engine.name}: tool calls one at a time`, latencyCount, (progress) =>
        dispatchLatency(engine, tools.slice(0, latencyCount), progress),
      )
    ).result;
  }
  if (runPings) {
    const { result, wallMs } = await phase(`${engine.name}: ${pings.length.toLocaleString('en-US')} pings`, pings.length, (progress) =>
      engine.stream(pings, progress),
    );
    row.pingRate = pings.length / (wallMs / 1000);
    row.pingDigest = digest(result.responses);
    row.pingDispatch = (
      await phase(`${engine.name}: pings one at a time`, latencyCount, (progress) =>
        dispatchLatency(engine, pings.slice(0, latencyCount), progress),
      )
    ).result;
  }
  await engine.close();
  return row;
}

// ---- the run -------------------------------------------------------------------------------------

const tools = makeToolCalls(runTools ? count('requests') : 2_000);
const pings = makePings(runPings ? count('pings') : 20_000);
console.error(
  `\nviscose demo: JSON-RPC tool calls through viscose and piscina, ${settings.threads} worker threads each, Node ${process.version}\n`,
);

/** The tool calls on the main thread alone: the reference responses and the sequential time. */
async function reference(when) {
  const { result, wallMs } = await phase(
    `main thread alone (${when}): ${tools.length.toLocaleString('en-US')} tool calls`,
    tools.length,
    (progress) => sequential(tools, progress),
  );
  return {
    wallMs,
    digest: digest(result.responses),
    failed: result.failed,
    errors: result.responses.filter((response) => response.error).length,
  };
}

const references = {};
const sequentialMs = [];
if (runTools) {
  sequential(tools.slice(0, 500), () => {}); // JIT warm-up on the main thread
  Object.assign(references, await reference('before'));
  sequentialMs.push(references.wallMs);
}
if (runPings) references.pingDigest = digest(sequential(pings, () => {}).responses);

const rows = [];
for (const make of [viscose, piscina]) rows.push(await measure(make));
if (runTools) {
  // A shared machine's speed drifts: the sequential time is measured before and after the engines,
  // and the efficiency is shown against both; the mark goes by the faster reference (the lower
  // efficiency).
  sequentialMs.push((await reference('after')).wallMs);
  for (const row of rows) {
    const [low, high] = [Math.min(...sequentialMs), Math.max(...sequentialMs)].map((ms) => ms / (settings.threads * row.toolsWallMs));
    row.efficiency = { low, high };
  }
}

// ---- the table -----------------------------------------------------------------------------------

for (const row of rows) {
  if (runTools && row.toolsDigest !== references.digest)
    throw new Error(`${row.name} answered the tool calls differently from the main thread`);
  if (runPings && row.pingDigest !== references.pingDigest)
    throw new Error(`${row.name} answered the pings differently from the main thread`);
}
const [ours, theirs] = rows;
const number = (value, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percent = (value) => `${number(value * 100, 1)} %`;
const percentRange = (low, high) => (high - low < 0.0005 ? percent(low) : `${number(low * 100, 1)}–${percent(high)}`);
/** ✓✓ meets the target, ✓ meets the floor, ✗ below the floor. */
const mark = (meetsTarget, meetsFloor) => (meetsTarget ? '✓✓' : meetsFloor ? '✓' : '✗');

const lines = [['criterion', 'floor', 'target', 'viscose', 'piscina']];
const dispatchLines = (what, of) => [
  [
    `dispatch latency p99, ${what}`,
    '< 1,000 µs',
    '≤ 50 µs',
    ...rows.map((r) => `${number(of(r).p99Us, 1)} µs ${mark(of(r).p99Us <= 50, of(r).p99Us < 1000)}`),
  ],
  ['  (p50)', '', '', ...rows.map((r) => `${number(of(r).p50Us, 1)} µs`)],
];
if (runTools) {
  lines.push(
    ['throughput, tool calls', '≥ 2,000 req/s', '', ...rows.map((r) => `${number(r.toolsRate)} req/s ${mark(false, r.toolsRate >= 2000)}`)],
    ...dispatchLines('tool calls', (r) => r.toolsDispatch),
    [
      'worker utilisation',
      '> 80 %',
      '≥ 95 %',
      ...rows.map((r) => `${percent(r.utilisation)} ${mark(r.utilisation >= 0.95, r.utilisation > 0.8)}`),
    ],
    [
      'batch efficiency',
      '> 90 %',
      '≥ 95 %',
      ...rows.map(({ efficiency: { low, high } }) => `${percentRange(low, high)} ${mark(low >= 0.95, low > 0.9)}`),
    ],
  );
}
if (runPings) {
  const ratio = ours.pingRate / theirs.pingRate;
  lines.push(
    [
      'throughput, pings',
      '',
      '≥ 20× piscina',
      `${number(ours.pingRate)} req/s = ${number(ratio, 1)}× ${mark(ratio >= 20, true)}`,
      `${number(theirs.pingRate)} req/s`,
    ],
    ...dispatchLines('pings', (r) => r.pingDispatch),
  );
}
const widths = lines[0].map((_, column) => Math.max(...lines.map((line) => [...line[column]].length)));
const render = (line) => `| ${line.map((cell, column) => cell.padEnd(widths[column] + cell.length - [...cell].length)).join(' | ')} |`;
console.log(`\n${render(lines[0])}\n|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
for (const line of lines.slice(1)) console.log(render(line));

console.log('\n✓✓ meets the target, ✓ meets the floor, ✗ below the floor.');
if (runTools) {
  const { own } = ours;
  console.log(
    `${number(tools.length)} tool calls (${references.errors} answered with a JSON-RPC error, ${references.failed} whose tool broke): ` +
      "every response of both engines equals the main thread's.",
  );
  console.log(
    `Main thread alone: ${sequentialMs.map((ms) => `${number(ms)} ms`).join(' before, ')} after the engines. ` +
      'Efficiency = each of the two / (threads × wall time), marked by the lower; utilisation = time in the handler / (threads × wall time).',
  );
  console.log(
    `viscose's own statistics for the stream: pool utilisation ${percent(own.pool.utilisation)}, ` +
      `batch efficiency ${percent(own.batches.efficiency.overall)} (${own.batches.completed} frames, overlapping), ` +
      `${number(own.pool.submitted)} chunks of up to ${settings.batchSize} requests, ${number(own.pool.steals)} stolen.`,
  );
}
const skewed = rows.reduce((sum, r) => sum + (r.toolsDispatch?.skewed ?? 0) + (r.pingDispatch?.skewed ?? 0), 0);
console.log(
  `Dispatch latency: from the call to the handler starting on a worker, ${number(latencyCount)} calls sent one after another` +
    (skewed > 0 ? ` (${skewed} readings below 0 from clock skew between threads, counted as 0).` : '.'),
);
console.log('One run on a shared machine: npm run bench measures the engines with rounds and ranges.');
