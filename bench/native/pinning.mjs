// Sequential round trips with and without `pinThreads`: `node bench/native/pinning.mjs [--quick]`,
// one JSON line. Each round creates a pool of 2 workers (pinned, or not), warms it up, times
// ROUND_TRIPS trivial calls made one at a time, and closes it; the two kinds alternate, the first
// of each round changing. Pinning is for latency, so the figures are the round trip's p50 and p99.
import { ThreadPool } from 'viscose';
import { checkTrivialResult, trivialRequests } from '../lib/trivial-requests.mjs';
import { median, percentile } from '../lib/stats.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 6;
const ROUND_TRIPS = quick ? 2_000 : 10_000;
const WARMUP_MS = quick ? 300 : 2_000;
const MODULE = new URL('../workers/viscose-tasks.mjs', import.meta.url);
const requests = trivialRequests(ROUND_TRIPS);

async function roundTrips(pinThreads) {
  const pool = await ThreadPool.create({ module: MODULE, threads: 2, pinThreads });
  try {
    const until = performance.now() + WARMUP_MS;
    while (performance.now() < until) for (let i = 0; i < 500; i++) await pool.run('trivial', requests[i]);
    const micros = new Float64Array(ROUND_TRIPS);
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const start = performance.now();
      const result = await pool.run('trivial', requests[i]);
      micros[i] = (performance.now() - start) * 1000;
      checkTrivialResult(requests[i], result, i);
    }
    return { p50: percentile(micros, 50), p99: percentile(micros, 99), cpus: pool.settings.pinCpus ?? null };
  } finally {
    await pool.close();
  }
}

const samples = { unpinned: [], pinned: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const pinned of round % 2 === 0 ? [false, true] : [true, false])
    samples[pinned ? 'pinned' : 'unpinned'].push(await roundTrips(pinned));
  process.stderr.write(`pinning: round ${round + 1}/${ROUNDS}\n`);
}
const summary = (runs, key) => ({
  median: median(runs.map((run) => run[key])),
  min: Math.min(...runs.map((run) => run[key])),
  max: Math.max(...runs.map((run) => run[key])),
});
console.log(
  JSON.stringify({
    rounds: ROUNDS,
    roundTrips: ROUND_TRIPS,
    cpus: samples.pinned[0].cpus,
    unpinned: { p50: summary(samples.unpinned, 'p50'), p99: summary(samples.unpinned, 'p99') },
    pinned: { p50: summary(samples.pinned, 'p50'), p99: summary(samples.pinned, 'p99') },
  }),
);
