// Fork-join with each deque implementation: `node bench/native/forkjoin.mjs [--quick]`, one JSON
// line on stdout (bench/native/run.mjs writes the report). Fork-join is where the deque is on the
// hot path: every join pushes its second half, pops it back or has it stolen, and claims it.
//
// One process, four pools (1 and 2 threads, each implementation) created up front; each round runs
// every measurement once per implementation, in alternating order, after a warm-up.
import { ThreadPool } from 'viscose';
import { fibSequential, fillRandom } from '../lib/kernels.mjs';
import { median } from '../lib/stats.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const JOINS = quick ? 50_000 : 200_000;
const FIB_N = quick ? 27 : 30;
/** A small cut-off makes fib join-bound: about 2^(n - cutoff) joins of little work each. */
const FIB_CUTOFF = 12;
const SORT_LENGTH = quick ? 1_000_000 : 4_000_000;
const SORT_CUTOFF = 20_000;
const IMPLS = ['js', 'native'];
const MODULE = new URL('../workers/viscose-forkjoin.mjs', import.meta.url);
const log = (message) => process.stderr.write(`${message}\n`);

const pools = {};
for (const queue of IMPLS) {
  pools[queue] = {
    one: await ThreadPool.create({ module: MODULE, threads: 1, queue }),
    two: await ThreadPool.create({ module: MODULE, threads: 2, queue }),
  };
}
const values = new Int32Array(new SharedArrayBuffer(4 * SORT_LENGTH));
const fibExpected = fibSequential(FIB_N);

const measurements = {
  /** ns one join adds over calling its halves directly, on one thread: push, pop and claim. */
  'join overhead, 1 thread (ns per join)': async (pool) => (await pool.one.run('joinCost', JOINS, 5)).joinNs,
  [`fib(${FIB_N}), join above ${FIB_CUTOFF}, 2 threads (ms)`]: async (pool) => {
    const start = performance.now();
    const result = await pool.two.run('fib', FIB_N, FIB_CUTOFF);
    const ms = performance.now() - start;
    if (result !== fibExpected) throw new Error(`fib returned ${result}`);
    return ms;
  },
  [`quicksort of ${SORT_LENGTH.toLocaleString('en')} Int32, 2 threads (ms)`]: async (pool) => {
    fillRandom(values, 7);
    const start = performance.now();
    await pool.two.run('quicksort', values, 0, values.length, SORT_CUTOFF);
    const ms = performance.now() - start;
    for (let i = 1; i < values.length; i++) if (values[i - 1] > values[i]) throw new Error('quicksort left the array unsorted');
    return ms;
  },
};

for (const queue of IMPLS) for (const measure of Object.values(measurements)) await measure(pools[queue]); // warm-up
const samples = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? IMPLS : [...IMPLS].reverse();
  for (const [name, measure] of Object.entries(measurements)) {
    samples[name] ??= { js: [], native: [] };
    for (const queue of order) samples[name][queue].push(await measure(pools[queue]));
  }
  log(`fork-join: round ${round + 1}/${ROUNDS}`);
}
const steals = {};
for (const queue of IMPLS) steals[queue] = (await pools[queue].two.snapshot()).reduce((sum, worker) => sum + worker.steals, 0);
for (const queue of IMPLS) for (const pool of Object.values(pools[queue])) await pool.close();
console.log(
  JSON.stringify({
    rounds: ROUNDS,
    samples,
    medians: mapValues(samples, (byImpl) => mapValues(byImpl, median)),
    stealsOnTwoThreads: steals,
  }),
);

function mapValues(object, f) {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, f(value)]));
}
