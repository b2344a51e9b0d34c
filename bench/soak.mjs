// Soak benchmark: 10,000,000 tasks through one pool, sampling memory as it goes, to show that it
// stays flat once warm (no leak in slots, arenas, pending calls, listeners or worker heaps).
//
// Each cycle sends 10,000 tasks: one runBatch of 8,000 trivial calls, 2,000 trivial `run` calls
// in flight at once (more than the 1,024 slots, so calls also wait for slots), plus one fork-join
// recursion (about 200 nested tasks, not counted in the 10,000). Every 250,000 tasks every thread
// collects garbage (node --expose-gc; the workers through a broadcast task), then the benchmark
// records the process's RSS (main thread and workers: one process), the main thread's heap, the
// sum of the workers' heaps (used, and reserved by V8) and where the slots are. After a warm-up of the first 10 % of the tasks, the
// slope of a least-squares line through each curve says whether it grows.
//
// `npm run bench:soak` (or `node --expose-gc bench/soak.mjs --tasks 2000000`)
// Writes bench/results/soak.json, soak.md and soak.svg.
import { writeFileSync } from 'node:fs';
import { ThreadPool } from '../dist/index.js';
import { describeEnvironment } from './lib/environment.mjs';
import { lineChart } from './lib/line-chart.mjs';

const TASKS = Number(argument('--tasks') ?? 10_000_000);
const BATCH = 8_000;
const SINGLES = 2_000;
const PER_CYCLE = BATCH + SINGLES;
const SAMPLE_EVERY = 250_000;
const WARM_UP = 0.1;
const MB = 2 ** 20;

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (npm run bench:soak does)');
  process.exit(1);
}

const pool = await ThreadPool.create({ module: new URL('./workers/soak-tasks.mjs', import.meta.url), threads: 2 });
const batch = Array.from({ length: BATCH }, (_, id) => [{ id, msg: 'soak' }]);
const samples = [];
const started = performance.now();
let done = 0;
let lastSampleAt = 0;
await sample();
while (done < TASKS) {
  const singles = Array.from({ length: SINGLES }, (_, id) => pool.run('trivial', { id, msg: 'soak' }));
  const [results, sum] = await Promise.all([pool.runBatch('trivial', batch), pool.run('sumJoin', 0, 20_000, 200), Promise.all(singles)]);
  if (results.length !== BATCH || sum !== (19_999 * 20_000) / 2) throw new Error('wrong results');
  done += PER_CYCLE;
  if (done - lastSampleAt >= SAMPLE_EVERY || done >= TASKS) await sample();
}
await pool.close();

const after = samples.filter((s) => s.tasks >= WARM_UP * TASKS);
const verdict = {
  rssSlopeMiBPerMillion: slope(after, 'rssMiB'),
  mainHeapSlopeMiBPerMillion: slope(after, 'mainHeapMiB'),
  workerHeapSlopeMiBPerMillion: slope(after, 'workerHeapMiB'),
  rssRangeMiB: range(after, 'rssMiB'),
  mainHeapRangeMiB: range(after, 'mainHeapMiB'),
  slotsLeft: samples.at(-1).slotsInUse,
};
const seconds = (performance.now() - started) / 1000;
const record = {
  environment: describeEnvironment(['viscose']),
  method: {
    tasks: TASKS,
    perCycle: { runBatch: BATCH, run: SINGLES, forkJoinNestedTasks: 'about 200' },
    sampleEvery: SAMPLE_EVERY,
    warmUpFraction: WARM_UP,
    note: 'RSS is the whole process (main thread and workers). Heaps measured right after a garbage collection on every thread.',
  },
  seconds,
  tasksPerSecond: TASKS / seconds,
  verdict,
  samples,
};
writeFileSync(new URL('./results/soak.json', import.meta.url), `${JSON.stringify(record, null, 2)}\n`);
writeFileSync(new URL('./results/soak.svg', import.meta.url), chart());
writeFileSync(new URL('./results/soak.md', import.meta.url), markdown());
console.log(markdown());

async function sample() {
  globalThis.gc();
  const workerHeaps = await pool.broadcast('collectGarbage');
  const memory = process.memoryUsage();
  const slots = pool.statistics().slots;
  const entry = {
    tasks: done,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    rssMiB: round(memory.rss / MB),
    mainHeapMiB: round(memory.heapUsed / MB),
    mainHeapReservedMiB: round(memory.heapTotal / MB),
    externalMiB: round(memory.external / MB),
    workerHeapMiB: round(workerHeaps.reduce((total, heap) => total + heap.heapUsed, 0) / MB),
    workerHeapReservedMiB: round(workerHeaps.reduce((total, heap) => total + heap.heapTotal, 0) / MB),
    slotsInUse: slots.main.capacity - slots.main.free,
  };
  samples.push(entry);
  lastSampleAt = done;
  process.stderr.write(
    `${entry.tasks} tasks: rss ${entry.rssMiB} MiB, main heap ${entry.mainHeapMiB} MiB, worker heaps ${entry.workerHeapMiB} MiB\n`,
  );
}

function slope(points, key) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.tasks, 0) / n;
  const my = points.reduce((s, p) => s + p[key], 0) / n;
  const sxy = points.reduce((s, p) => s + (p.tasks - mx) * (p[key] - my), 0);
  const sxx = points.reduce((s, p) => s + (p.tasks - mx) ** 2, 0);
  return round((sxy / sxx) * 1e6);
}

function range(points, key) {
  const values = points.map((p) => p[key]);
  return [Math.min(...values), Math.max(...values)];
}

function round(value) {
  return Number(value.toFixed(2));
}

function chart() {
  const line = (name, key) => ({
    name,
    points: samples.map((s) => [s.tasks, key === 'reservedMiB' ? s.mainHeapReservedMiB + s.workerHeapReservedMiB : s[key]]),
  });
  return lineChart({
    title: `viscose soak: ${TASKS.toLocaleString('en')} tasks`,
    xLabel: 'tasks completed',
    yLabel: 'MiB',
    series: [
      line('process RSS', 'rssMiB'),
      line('heaps reserved', 'reservedMiB'),
      line('main heap used', 'mainHeapMiB'),
      line('worker heaps used', 'workerHeapMiB'),
    ],
  });
}

function markdown() {
  const env = record.environment;
  const rows = samples
    .filter((_, i) => i % 4 === 0 || i === samples.length - 1)
    .map(
      (s) =>
        `| ${s.tasks.toLocaleString('en')} | ${s.seconds} | ${s.rssMiB} | ${s.mainHeapMiB} (${s.mainHeapReservedMiB}) | ${s.workerHeapMiB} (${s.workerHeapReservedMiB}) | ${s.slotsInUse} |`,
    );
  return [
    `# Soak: ${TASKS.toLocaleString('en')} tasks`,
    '',
    `${env.cpuModel}, ${env.cpus} CPUs, Node ${env.node}, viscose ${env.packages.viscose} (${env.source.commit ?? 'no commit'}), ${env.date}.`,
    `${seconds.toFixed(1)} s, ${Math.round(record.tasksPerSecond).toLocaleString('en')} tasks/s. Method: bench/soak.mjs (header).`,
    '',
    `After warm-up (the first ${WARM_UP * 100} %): RSS slope ${verdict.rssSlopeMiBPerMillion} MiB per million tasks (range ${verdict.rssRangeMiB.join('–')} MiB),`,
    `main heap slope ${verdict.mainHeapSlopeMiBPerMillion} MiB per million (range ${verdict.mainHeapRangeMiB.join('–')} MiB), worker heaps slope ${verdict.workerHeapSlopeMiBPerMillion} MiB per million; slots in use at the end: ${verdict.slotsLeft}.`,
    "RSS moves in steps when V8 enlarges a heap's young generation under the allocation rate (the reserved column): bounded by V8's semi-space limit, not a leak; the used heaps are what a leak would grow.",
    '',
    '![memory curve](soak.svg)',
    '',
    '| tasks | s | RSS MiB | main heap used (reserved) MiB | worker heaps used (reserved) MiB | slots in use |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
}

function argument(name) {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}
