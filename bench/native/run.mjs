// The two deque implementations side by side: `npm run bench:native` (add `-- --quick` for a smoke
// run). Three parts, each in its own process, one after the other:
//   1. queue-ops.ts: the cost of each deque operation, TypeScript against C++ (same words), one
//      process per implementation and round, alternating;
//   2. forkjoin.mjs: joins, fib and quicksort on pools using each implementation;
//   3. pinning.mjs: sequential round trips on pools with and without pinThreads, and
//      ../probes/atomics-cost.mjs: what one JS Atomics operation costs;
//   4. ../run.mjs with the contenders viscose and viscose-native: the peers' workloads A-H (calls
//      from the main thread, which go through the injector), with the same idle waits and
//      contamination checks as the comparison of peers.
// Writes bench/results/native.{md,json} (parts 1 to 3) and native-pools.{md,json} (part 4).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeEnvironment } from '../lib/environment.mjs';
import { median, spread } from '../lib/stats.mjs';

const quick = process.argv.includes('--quick');
const suffix = quick ? '-quick' : '';
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const RESULTS = new URL('../results/', import.meta.url);

/** Runs a benchmark script and returns the JSON line it printed; its progress goes to our stderr. */
function runPart(args) {
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (child.status !== 0) throw new Error(`${args.join(' ')} exited with status ${child.status}`);
  const line = child.stdout.split('\n').find((candidate) => candidate.startsWith('{'));
  if (line === undefined) throw new Error(`${args.join(' ')} printed no result`);
  return JSON.parse(line);
}

const queueOps = measureQueueOps(quick ? 3 : 7);
const forkJoin = runPart([here('./forkjoin.mjs'), ...(quick ? ['--quick'] : [])]);
const pinning = runPart([here('./pinning.mjs'), ...(quick ? ['--quick'] : [])]);
const atomics = runPart([here('../probes/atomics-cost.mjs')]);
const pools = spawnSync(
  process.execPath,
  [here('../run.mjs'), '--contenders', 'viscose,viscose-native', '--output', `native-pools${suffix}`, ...(quick ? ['--quick'] : [])],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
if (pools.status !== 0) process.exitCode = 1;

const record = {
  profile: quick ? 'quick' : 'full',
  environment: describeEnvironment(['msgpackr', 'node-addon-api']),
  queueOps,
  forkJoin,
  pinning,
  atomics,
};
mkdirSync(RESULTS, { recursive: true });
writeFileSync(new URL(`native${suffix}.json`, RESULTS), JSON.stringify(record, null, 1));
const report = render(record);
writeFileSync(new URL(`native${suffix}.md`, RESULTS), report);
process.stdout.write(report);

/** `{ rounds, ops, contendedItems, samples: { [operation]: { js: ns[], native: ns[] } }, contendedRetries }` */
function measureQueueOps(rounds) {
  const samples = {};
  const contendedRetries = { js: [], native: [] };
  let sizes;
  for (let round = 0; round < rounds; round++) {
    for (const impl of round % 2 === 0 ? ['js', 'native'] : ['native', 'js']) {
      const result = runPart(['--import', 'tsx', here('./queue-ops.ts'), impl, ...(quick ? ['--quick'] : [])]);
      for (const [name, ns] of Object.entries(result.nsPerOp)) {
        samples[name] ??= { js: [], native: [] };
        samples[name][impl].push(ns);
      }
      contendedRetries[impl].push(result.contendedRetries);
      sizes = { ops: result.ops, contendedItems: result.contendedItems };
    }
    process.stderr.write(`queue ops: round ${round + 1}/${rounds}\n`);
  }
  return { rounds, ...sizes, samples, contendedRetries };
}

function render({ environment, queueOps: ops, forkJoin: fj, pinning: pin, atomics }) {
  const lines = [
    '# The deque in TypeScript and in C++ (native-queue/), side by side',
    '',
    `${environment.cpuModel} (${environment.cpus} CPUs), Node.js ${environment.node}, ${environment.date}. Method: native-queue/README.md.`,
    '',
    `## Operations (ns per operation; median of ${ops.rounds} rounds, min–max)`,
    '',
    '| operation | TypeScript | C++ (Node-API) | C++ ÷ TypeScript |',
    '|---|---:|---:|---:|',
    ...Object.entries(ops.samples).map(([name, byImpl]) => row(name, byImpl, 1)),
    '',
    `Contended steal: ${ops.contendedItems.toLocaleString('en')} entries, two thieves; races lost per run (median): ` +
      `TypeScript ${median(ops.contendedRetries.js)}, C++ ${median(ops.contendedRetries.native)}.`,
    '',
    `One JS operation, for scale (ns; median of ${atomics.passes} passes of ${atomics.ops.toLocaleString('en')}): ` +
      Object.entries(atomics.nsPerOp)
        .map(([name, ns]) => `${name} ${ns.toFixed(1)}`)
        .join(', ') +
      '.',
    '',
    `## Fork-join on pools using each implementation (median of ${fj.rounds} rounds, min–max)`,
    '',
    '| measurement | queue: js | queue: native | native ÷ js |',
    '|---|---:|---:|---:|',
    ...Object.entries(fj.samples).map(([name, byImpl]) => row(name, byImpl, name.includes('ns') ? 0 : 1)),
    '',
    `Steals on the 2-thread pools over the run: js ${fj.stealsOnTwoThreads.js.toLocaleString('en')}, native ${fj.stealsOnTwoThreads.native.toLocaleString('en')}.`,
    '',
    `## Thread pinning: sequential round trips of a trivial task (µs; median of ${pin.rounds} pools each, min–max)`,
    '',
    `${pin.roundTrips.toLocaleString('en')} calls one at a time per pool, 2 workers, TypeScript deque; pinned to CPUs ${JSON.stringify(pin.cpus)}.`,
    '',
    '| | p50 | p99 |',
    '|---|---:|---:|',
    ...['unpinned', 'pinned'].map((kind) => `| ${kind} | ${range(pin[kind].p50, 1)} | ${range(pin[kind].p99, 0)} |`),
    '',
    `Calls from the main thread (workloads A–H of the peers' benchmark, through the injector): native-pools${suffix}.md.`,
    '',
  ];
  return lines.join('\n');
}

function row(name, byImpl, digits) {
  const js = spread(byImpl.js);
  const native = spread(byImpl.native);
  return `| ${name} | ${range(js, digits)} | ${range(native, digits)} | ${(native.median / js.median).toFixed(2)} |`;
}

function range(s, digits) {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}
