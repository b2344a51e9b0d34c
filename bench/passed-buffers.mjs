// What passing a buffer created in a worker to the work it forks costs. One call runs 2,000 joins
// on 2 workers; each join's halves spin 20 µs and touch a 64 KiB shared buffer, which is
//   sent:      a buffer the main thread sent with the call (travels by id),
//   allocated: a fresh buffer the task allocates per join, while the halves touch the sent one,
//   passed:    a fresh buffer the task allocates per join and passes to the halves
//              (posted to the other worker, lent while the join runs, dropped after).
// 20 alternating rounds, medians; passed − allocated is the cost of passing.
// `node bench/passed-buffers.mjs`; results in bench/results/passed-buffers.md.
import { ThreadPool } from '../dist/index.js';

const module = new URL('./workers/passed-buffer-tasks.mjs', import.meta.url);
const ROUNDS = 2000;
const BYTES = 64 * 1024;
const SPIN_US = 20;

const pool = await ThreadPool.create({ module, threads: 2 });
const sent = new Uint8Array(new SharedArrayBuffer(BYTES));
const variants = ['sent', 'allocated', 'passed'];
const costs = Object.fromEntries(variants.map((variant) => [variant, []]));
const stolen = Object.fromEntries(variants.map((variant) => [variant, []]));
await pool.run('joins', sent, ROUNDS, BYTES, 'passed', SPIN_US);
for (let round = 0; round < 20; round++) {
  for (const variant of variants) {
    const start = performance.now();
    stolen[variant].push(await pool.run('joins', sent, ROUNDS, BYTES, variant, SPIN_US));
    costs[variant].push(((performance.now() - start) * 1000) / ROUNDS);
  }
}
await pool.close();

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log(`| join over a 64 KiB buffer (halves spin ${SPIN_US} µs) | µs per join | second half stolen |`);
console.log('| --- | ---: | ---: |');
for (const variant of variants) {
  console.log(`| ${variant} | ${median(costs[variant]).toFixed(1)} | ${((median(stolen[variant]) / ROUNDS) * 100).toFixed(0)} % |`);
}
const extra = costs.passed.map((cost, round) => cost - costs.allocated[round]);
console.log(`| passed − allocated, median of the 20 paired rounds | ${median(extra).toFixed(1)} | |`);
