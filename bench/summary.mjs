// The one-page summary of a benchmark run: viscose's figure for each workload next to the best
// peer's, the Rayon reference's and the target (DESIGN section 7; H's from the processor's issue), read from the three result
// files the run just wrote (results/latest.json, forkjoin.json, rayon.json; with --quick, their
// quick versions). Writes results/summary.md (summary-quick.md) and prints it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { formatRuntime } from './lib/environment.mjs';
import { childRuntimes } from './lib/report.mjs';

const RESULTS = new URL('./results/', import.meta.url);
const quick = process.argv.includes('--quick');
const peers = read(quick ? 'quick.json' : 'latest.json');
const forkjoin = read(quick ? 'forkjoin-quick.json' : 'forkjoin.json');
const rayon = read(quick ? 'rayon-quick.json' : 'rayon.json');

const POOLS = ['piscina', 'tinypool', 'workerpool', 'poolifier', 'bare worker_threads'];
const cell = (contender, id) => peers?.summary.cells[contender]?.[id]?.median;
const bestPeer = (id, better) => {
  const values = POOLS.map((name) => ({ name, value: cell(name, id) })).filter((entry) => entry.value !== undefined);
  if (values.length === 0) return undefined;
  return values.reduce((best, entry) => ((better === 'higher' ? entry.value > best.value : entry.value < best.value) ? entry : best));
};
const speedup = (workloadPrefix, contender) => forkjoin?.workloads.find((w) => w.name.startsWith(workloadPrefix))?.speedups[contender];
const rayonFigure = (id, key) => (rayon === undefined || rayon.skipped !== undefined ? undefined : rayon[id]?.[key]);

const rows = [
  row(
    'A: trivial tasks through the batch call, tasks/s',
    cell('viscose', 'A.batch/tasksPerSecond'),
    undefined,
    undefined,
    '≥ 1,000,000',
    'higher',
    1_000_000,
  ),
  row(
    'A: trivial tasks, one call each, tasks/s',
    cell('viscose', 'A.single/tasksPerSecond'),
    bestPeer('A.single/tasksPerSecond', 'higher'),
    undefined,
    '≥ 500,000',
    'higher',
    500_000,
  ),
  row('B: round trip p50, µs', cell('viscose', 'B/p50Micros'), bestPeer('B/p50Micros', 'lower'), undefined, '≤ 10', 'lower', 10),
  row(
    'C: efficiency, 2 ms tasks, %',
    cell('viscose', 'C/efficiency'),
    bestPeer('C/efficiency', 'higher'),
    rayonFigure('C', 'efficiency'),
    '≥ 98',
    'higher',
    98,
    cell('ideal split', 'C/efficiency'),
  ),
  row(
    'D: efficiency, skewed tasks, %',
    cell('viscose', 'D/efficiency'),
    bestPeer('D/efficiency', 'higher'),
    rayonFigure('D', 'efficiency'),
    '≥ 97',
    'higher',
    97,
    cell('ideal split', 'D/efficiency'),
  ),
  row('H: processor stream, worker utilisation, %', cell('viscose', 'H/utilisation'), undefined, undefined, '≥ 95', 'higher', 95),
  row('H: processor stream, batch efficiency, %', cell('viscose', 'H/batchEfficiency'), undefined, undefined, '≥ 95', 'higher', 95),
  row('H: processor dispatch latency p99, µs', cell('viscose', 'H/dispatchP99Micros'), undefined, undefined, '≤ 50', 'lower', 50),
  row(
    'E: fib with join, speedup on 2 threads',
    speedup('fib', 'viscose, 2 threads'),
    undefined,
    rayonFigure('E', 'speedup'),
    '≥ 1.8×',
    'higher',
    1.8,
  ),
  row(
    'F: quicksort with join, speedup',
    speedup('quicksort', 'viscose, 2 threads'),
    undefined,
    rayonFigure('F', 'speedup'),
    '≥ 1.6×',
    'higher',
    1.6,
  ),
  row(
    'G: parallel sum, speedup',
    speedup('parIter sum', 'viscose, 2 threads'),
    peerSpeedup('parIter sum'),
    rayonFigure('G.sum', 'speedup'),
    '≥ 1.8×',
    'higher',
    1.8,
  ),
  row(
    'G: parallel map, speedup',
    speedup('parIter map', 'viscose, 2 threads'),
    peerSpeedup('parIter map'),
    rayonFigure('G.map', 'speedup'),
    '≥ 1.8×',
    'higher',
    1.8,
  ),
];

// The pools' children and the fork-join runner may run on different runtimes; records from before
// runtimes were recorded only have the runner's Node version.
const peersOn =
  peers === undefined
    ? '?'
    : childRuntimes(peers, Object.keys(peers.rounds[0].runs))
        .map((runtime) => formatRuntime(runtime))
        .join(', ') || `node ${peers.environment.node.slice(1)}`;
const forkjoinOn =
  forkjoin === undefined
    ? '?'
    : forkjoin.environment.runtime === undefined
      ? `node ${forkjoin.environment.node.slice(1)}`
      : formatRuntime(forkjoin.environment.runtime);
const on = peersOn === forkjoinOn ? peersOn : `${peersOn} (A–D, H), ${forkjoinOn} (E–G)`;

const lines = [
  `# Benchmark summary${quick ? ' (quick)' : ''} — on ${on}`,
  '',
  `${peers?.environment.cpuModel ?? '?'}, ${peers?.environment.cpus ?? '?'} CPUs, JavaScript on ${on}, viscose at ${peers?.environment.source?.commit ?? '?'}.`,
  'Medians over rounds; each row comes from the run of its own runner (bench/README.md has the methods):',
  `A–D from \`${quick ? 'quick' : 'latest'}.md\`, E–G from \`forkjoin${quick ? '-quick' : ''}.md\`, the Rayon column from \`rayon${quick ? '-quick' : ''}.json\`.`,
  '',
  `| Workload | viscose (${on}) | best Node.js peer | Rayon (Rust), 2 threads | ideal split (ceiling) | target | viscose meets it |`,
  '|---|---:|---:|---:|---:|---:|---|',
  ...rows,
  '',
  rayon?.skipped === undefined
    ? `Rayon ${rayon?.rayonVersion ?? '?'} (${rayon?.rustc ?? '?'}), its own calibrated 2 ms unit (${rayon?.unitIterations?.toLocaleString('en') ?? '?'} iterations): the same task shapes, not the same instructions.`
    : `Rayon reference: skipped (${rayon.skipped}).`,
  'The best peer of G is two bare worker_threads each given one half by hand: no Node.js pool can split a loop by itself.',
  'The ideal split is no pool either: each of the 2 threads gets its share of equal total cost in one message, computed from costs no pool knows in advance, and runs it with no other communication: what the cores themselves allow.',
  '',
];
writeFileSync(new URL(quick ? 'summary-quick.md' : 'summary.md', RESULTS), lines.join('\n'));
process.stdout.write(lines.join('\n'));

function row(label, viscose, peer, rayonValue, target, better, goal, ceiling) {
  const meets = viscose === undefined ? '—' : (better === 'higher' ? viscose >= goal : viscose <= goal) ? 'yes' : 'no';
  const peerText = peer === undefined ? '—' : `${format(peer.value)} (${peer.name})`;
  const text = (value) => (value === undefined ? '—' : format(value));
  return `| ${label} | ${text(viscose)} | ${peerText} | ${text(rayonValue)} | ${text(ceiling)} | ${target} | ${meets} |`;
}

function peerSpeedup(prefix) {
  const value = speedup(prefix, 'bare worker_threads, halves by hand');
  return value === undefined ? undefined : { name: 'bare halves by hand', value };
}

function format(value) {
  if (value >= 1000) return Math.round(value).toLocaleString('en');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function read(name) {
  const url = new URL(name, RESULTS);
  return existsSync(url) ? JSON.parse(readFileSync(url, 'utf8')) : undefined;
}
