// The two deque implementations side by side: `npm run bench:native` (add `-- --quick` for a smoke
// run). Three parts, each in its own process, one after the other:
//   1. queue-ops.ts: the cost of each deque operation, TypeScript against C++ (same words);
//   2. forkjoin.mjs: joins, fib and quicksort on pools using each implementation;
//   3. ../run.mjs with the contenders viscose and viscose-native: the peers' workloads A-H (calls
//      from the main thread, which go through the injector), with the same idle waits and
//      contamination checks as the comparison of peers.
// Writes bench/results/native.{md,json} (parts 1 and 2) and native-pools.{md,json} (part 3).
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

const queueOps = runPart(['--import', 'tsx', here('./queue-ops.ts'), ...(quick ? ['--quick'] : [])]);
const forkJoin = runPart([here('./forkjoin.mjs'), ...(quick ? ['--quick'] : [])]);
const pools = spawnSync(
  process.execPath,
  [here('../run.mjs'), '--contenders', 'viscose,viscose-native', '--output', `native-pools${suffix}`, ...(quick ? ['--quick'] : [])],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
if (pools.status !== 0) process.exitCode = 1;

const record = { profile: quick ? 'quick' : 'full', environment: describeEnvironment(['msgpackr', 'node-addon-api']), queueOps, forkJoin };
mkdirSync(RESULTS, { recursive: true });
writeFileSync(new URL(`native${suffix}.json`, RESULTS), JSON.stringify(record, null, 1));
const report = render(record);
writeFileSync(new URL(`native${suffix}.md`, RESULTS), report);
process.stdout.write(report);

function render({ environment, queueOps: ops, forkJoin: fj }) {
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
    `## Fork-join on pools using each implementation (median of ${fj.rounds} rounds, min–max)`,
    '',
    '| measurement | queue: js | queue: native | native ÷ js |',
    '|---|---:|---:|---:|',
    ...Object.entries(fj.samples).map(([name, byImpl]) => row(name, byImpl, name.includes('ns') ? 0 : 1)),
    '',
    `Steals on the 2-thread pools over the run: js ${fj.stealsOnTwoThreads.js.toLocaleString('en')}, native ${fj.stealsOnTwoThreads.native.toLocaleString('en')}.`,
    '',
    `Calls from the main thread (workloads A–H of the peers' benchmark, through the injector): native-pools${suffix}.md.`,
    '',
  ];
  return lines.join('\n');
}

function row(name, byImpl, digits) {
  const js = spread(byImpl.js);
  const native = spread(byImpl.native);
  const cell = (s) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  return `| ${name} | ${cell(js)} | ${cell(native)} | ${(native.median / js.median).toFixed(2)} |`;
}
