// Shared buffers over a long run: N calls (default 200,000), each with a fresh 64 KiB
// SharedArrayBuffer, 64 in flight on 2 workers, with the process's RSS and array-buffer memory
// sampled every N/10 calls; then the cost of such a call against one with a buffer sent before,
// measured side by side in 20 alternating rounds of 2,000 calls (medians).
// `node bench/shared-buffers.mjs [calls]`; results in bench/results/shared-buffers.md.
import { ThreadPool } from '../dist/index.js';

const module = new URL('./workers/shared-buffer-tasks.mjs', import.meta.url);
const calls = Number(process.argv[2] ?? 200_000);
const SIZE = 64 * 1024;
const IN_FLIGHT = 64;
const mib = (bytes) => (bytes / 1048576).toFixed(1);

const pool = await ThreadPool.create({ module, threads: 2 });

async function run(count, view) {
  const start = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      await pool.run('first', view ?? new Uint8Array(new SharedArrayBuffer(SIZE)));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return ((performance.now() - start) * 1000) / count;
}

console.log(`| calls so far | RSS, MiB | arrayBuffers, MiB |`);
console.log(`| ---: | ---: | ---: |`);
const step = calls / 10;
for (let done = 0; done <= calls; done += step) {
  if (done > 0) await run(step);
  const memory = process.memoryUsage();
  console.log(`| ${done.toLocaleString('en')} | ${mib(memory.rss)} | ${mib(memory.arrayBuffers)} |`);
}

const reused = new Uint8Array(new SharedArrayBuffer(SIZE));
const costs = { fresh: [], reused: [] };
for (let round = 0; round < 20; round++) {
  costs.reused.push(await run(2000, reused));
  costs.fresh.push(await run(2000));
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log();
console.log(`| call (${IN_FLIGHT} in flight, 2 workers) | µs per call, median of 20 rounds of 2,000 |`);
console.log(`| --- | ---: |`);
console.log(`| 64 KiB buffer sent before | ${median(costs.reused).toFixed(1)} |`);
console.log(`| fresh 64 KiB buffer | ${median(costs.fresh).toFixed(1)} |`);
const ratios = costs.fresh.map((fresh, round) => fresh / costs.reused[round]);
console.log(`| fresh ÷ sent before, median of the 20 paired rounds | ${median(ratios).toFixed(2)}× |`);
await pool.close();
