// npm start: the same workloads through viscose and piscina, side by side, on this machine.
// A quick look, not a benchmark: `npm run bench` measures with rounds, idle checks and ranges.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ThreadPool } from 'viscose';
import { hashWork } from './tasks.mjs';

const threads = availableParallelism();
const tasks = new URL('./tasks.mjs', import.meta.url);

const TRIVIAL_CALLS = 50_000;
const CPU_TASKS = 200;
const ROUND_TRIPS = 2_000;

const requests = Array.from({ length: TRIVIAL_CALLS }, (_, id) => ({ id, msg: `test-message-${id}` }));

function checkTrivial(results) {
  results.forEach((result, id) => {
    if (result.id !== id || result.len !== requests[id].msg.length) throw new Error(`wrong result for request ${id}`);
  });
}

/** Iterations of hashWork that take about 2 ms on this machine's main thread. */
function calibrate() {
  for (let i = 0; i < 20; i++) hashWork({ iterations: 200_000, seed: i });
  const start = performance.now();
  for (let i = 0; i < 20; i++) hashWork({ iterations: 200_000, seed: i });
  const nsPerIteration = ((performance.now() - start) * 1e6) / (20 * 200_000);
  return Math.round(2e6 / nsPerIteration);
}

async function measure(label, contender, iterations, sequentialMs) {
  const row = { pool: label };
  // Warm-up: let the JIT see every path once.
  await contender.runMany(requests.slice(0, 5_000));
  let start = performance.now();
  checkTrivial(await contender.runMany(requests));
  row.single = TRIVIAL_CALLS / ((performance.now() - start) / 1000);
  if (contender.runBatch) {
    start = performance.now();
    checkTrivial(await contender.runBatch(requests));
    row.batch = TRIVIAL_CALLS / ((performance.now() - start) / 1000);
  }
  const latencies = [];
  for (let i = 0; i < ROUND_TRIPS; i++) await contender.runOne(requests[i]); // warm-up
  for (let i = 0; i < ROUND_TRIPS; i++) {
    start = performance.now();
    await contender.runOne(requests[i]);
    latencies.push((performance.now() - start) * 1000);
  }
  latencies.sort((a, b) => a - b);
  row.p50 = latencies[Math.floor(ROUND_TRIPS / 2)];
  start = performance.now();
  await Promise.all(Array.from({ length: CPU_TASKS }, (_, seed) => contender.hash({ iterations, seed })));
  row.speedup = sequentialMs / (performance.now() - start);
  return row;
}

const iterations = calibrate();
let start = performance.now();
for (let seed = 0; seed < CPU_TASKS; seed++) hashWork({ iterations, seed });
const sequentialMs = performance.now() - start;

const viscose = await ThreadPool.create({ module: tasks, threads });
const piscina = new Piscina({ filename: tasks.href, minThreads: threads, maxThreads: threads });

const rows = [
  await measure('viscose', {
    runOne: (request) => viscose.run('trivial', request),
    runMany: (list) => Promise.all(list.map((request) => viscose.run('trivial', request))),
    runBatch: (list) => viscose.runBatch('trivial', list.map((request) => [request])),
    hash: (job) => viscose.run('hashWork', job),
  }, iterations, sequentialMs),
  await measure('piscina', {
    runOne: (request) => piscina.run(request, { name: 'trivial' }),
    runMany: (list) => Promise.all(list.map((request) => piscina.run(request, { name: 'trivial' }))),
    hash: (job) => piscina.run(job, { name: 'hashWork' }),
  }, iterations, sequentialMs),
];
await viscose.close();
await piscina.close();

const number = (value, digits = 0) => (value === undefined ? 'no batch call' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
console.log(`\n${threads} worker threads each, Node ${process.version}\n`);
console.log('| pool | trivial tasks/s, one call each | trivial tasks/s, one batch call | round trip p50 (µs) | 200 x 2 ms CPU tasks, speedup |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  console.log(`| ${row.pool} | ${number(row.single)} | ${number(row.batch)} | ${number(row.p50, 1)} | ${number(row.speedup, 2)}x |`);
}
console.log(`\n${TRIVIAL_CALLS.toLocaleString('en-US')} trivial calls, ${ROUND_TRIPS.toLocaleString('en-US')} sequential round trips, speedup over ${sequentialMs.toFixed(0)} ms on the main thread alone.`);
console.log('One pass on a machine that may be busy: npm run bench measures carefully (rounds, idle checks, ranges).');
