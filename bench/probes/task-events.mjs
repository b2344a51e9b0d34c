// Task events (`emit` in a task, `onEvent` on the call): what one worker can deliver, and how long an
// event takes from `emit` to the listener, on a 2-thread pool with one call at a time.
//   - sustained: one task emits N events, retrying each that the bound (1,024 undelivered per
//     worker) drops: events/s delivered with none lost;
//   - flood: one task emits N events without retrying: events/s emitted, and the share dropped;
//   - latency: events stamped at `emit`, `gapMs` apart (0.02 and 0.2: the main thread
//     polling; 5: the main thread parks between them and is rung), median and p99 to the listener;
//   - unheard: what `emit` costs a task whose call has no listener (nothing is posted).
// `node bench/probes/task-events.mjs [N, default 200000]` (after `npm run build`)
import { ThreadPool } from '../../dist/index.js';

const module = new URL('../workers/event-tasks.mjs', import.meta.url);
const count = Number(process.argv[2] ?? 200_000);
const pool = await ThreadPool.create({ module, threads: 2 });
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];

let delivered = 0;
const counting = pool.with({ onEvent: () => delivered++ });
await counting.run('sustained', 10_000); // warm-up
delivered = 0;
let start = performance.now();
const sustained = await counting.run('sustained', count);
let ms = performance.now() - start;
console.log(
  `sustained: ${delivered} delivered in ${ms.toFixed(0)} ms: ${((delivered / ms) * 1000).toFixed(0)} events/s (emit retried ${sustained.retries} times)`,
);

delivered = 0;
start = performance.now();
const flood = await counting.run('flood', count);
ms = performance.now() - start;
console.log(
  `flood: ${count} emitted in ${flood.ms.toFixed(1)} ms (${((count / flood.ms) * 1000).toFixed(0)} events/s), ` +
    `${flood.dropped} dropped (${((flood.dropped / count) * 100).toFixed(1)} %), ${delivered} delivered`,
);

for (const gapMs of [0.02, 0.2, 5]) {
  const latencies = [];
  const samples = gapMs >= 5 ? 200 : 5000;
  await pool
    .with({ onEvent: (_event, at) => latencies.push((performance.timeOrigin + performance.now() - at) * 1000) })
    .run('spaced', samples, gapMs);
  console.log(
    `latency, events ${gapMs} ms apart: median ${quantile(latencies, 0.5).toFixed(0)} µs, p99 ${quantile(latencies, 0.99).toFixed(0)} µs`,
  );
}

console.log(`unheard: ${(await pool.run('unheard', 1_000_000)).toFixed(1)} ns per emit`);
await pool.close();
