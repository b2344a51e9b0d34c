// One contender, one round, in a fresh process: `node --expose-gc bench/one.mjs <contender> <profile>`
// (on Bun and Deno as lib/runtimes.mjs starts it).
// Starts the pool, warms up and measures each workload, closes the pool, and prints one JSON line.
// Any failure (a wrong result, a rejected call) exits non-zero with the error on stderr.
import { setTimeout as sleep } from 'node:timers/promises';
import { contenders } from './lib/contenders.mjs';
import { startPhase } from './lib/cpu-meter.mjs';
import { describeRuntime } from './lib/environment.mjs';
import { THREADS, profiles } from './lib/profiles.mjs';
import { workloads } from './lib/workloads.mjs';

/** How long close() may take before the child reports it as not settling. */
const CLOSE_TIMEOUT_MS = 5_000;

const [contenderName, profileName] = process.argv.slice(2);
const contender = contenders[contenderName];
if (contender === undefined || profiles[profileName] === undefined) {
  throw new Error(`usage: node --expose-gc bench/one.mjs <${Object.keys(contenders).join('|')}> <${Object.keys(profiles).join('|')}>`);
}
// A full, synchronous collection: Bun's own call, elsewhere V8's gc() that --expose-gc exposes.
const collectGarbage = globalThis.Bun === undefined ? globalThis.gc : () => globalThis.Bun.gc(true);
if (typeof collectGarbage !== 'function') throw new Error('run with --expose-gc: phases start from a collected heap');

const openedAt = performance.now();
const pool = await contender.open(THREADS);
const startupMs = performance.now() - openedAt;

const results = {};
for (const workload of workloads) {
  if (workload.needs !== undefined && workload.needs in contender.lacks) continue;
  const { count, warmup } = workload.sizes[profileName];
  const warmedUp = await warmUp(workload, warmup);
  await settle();
  const phase = startPhase();
  const metrics = await workload.measure(pool, count);
  results[workload.id] = { count, warmup: warmedUp, metrics, cpu: phase.end() };
}

const closingAt = performance.now();
// A timer that holds the process: if close() never settles, the child still prints its result
// (the runner then reports a child that does not exit) instead of dying on an unsettled await.
let closeTimer;
const closeTimeout = new Promise((resolve) => (closeTimer = setTimeout(resolve, CLOSE_TIMEOUT_MS, false)));
const closed = await Promise.race([pool.close().then(() => true), closeTimeout]);
clearTimeout(closeTimer);
const close = { settled: closed, ms: performance.now() - closingAt };

process.stdout.write(
  `${JSON.stringify({ contender: contenderName, profile: profileName, runtime: describeRuntime(), pid: process.pid, startupMs, configuration: pool.configuration, results, close })}\n`,
);

/**
 * Runs the workload on `size` items, again and again until the profile's warm-up time has passed
 * (at least once), so that every contender gets the same time for V8 to compile the measured path.
 * Returns how many items and how long the warm-up took.
 */
async function warmUp(workload, size) {
  const start = performance.now();
  let items = 0;
  do {
    await workload.measure(pool, size);
    items += size;
  } while (performance.now() - start < (workload.warmupMs?.[profileName] ?? profiles[profileName].warmupMs));
  return { items, ms: performance.now() - start };
}

/** Leaves the previous step's garbage and stragglers out of the next measured phase. */
async function settle() {
  collectGarbage();
  await sleep(50);
}
