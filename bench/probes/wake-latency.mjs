// What waking a parked thread costs on this machine, without any pool: one worker parks in
// Atomics.wait; after `idleMs` (default 50) of sleep the main thread stores and notifies. Prints the
// time the notify call took the waker and the time until the sleeper ran, median and maximum.
// `node bench/probes/wake-latency.mjs [idleMs] [samples]`
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';

const idleMs = Number(process.argv[2] ?? 50);
const samples = Number(process.argv[3] ?? 40);
// [0] the word the worker parks on, [1] wake count, [2..3] when it woke (Float64, µs since origin).
const words = new Int32Array(new SharedArrayBuffer(64));
const worker = new Worker(
  `const { workerData: words } = require('node:worker_threads');
   const clock = new Float64Array(words.buffer, 16, 1);
   for (;;) {
     Atomics.wait(words, 0, 0);
     clock[0] = (performance.timeOrigin + performance.now()) * 1000;
     Atomics.store(words, 0, 0);
     Atomics.add(words, 1, 1);
   }`,
  { eval: true, workerData: words },
);
const clock = new Float64Array(words.buffer, 16, 1);
const notifyCosts = [];
const latencies = [];
await sleep(100);
for (let i = 0; i < samples; i++) {
  await sleep(idleMs);
  const wakes = Atomics.load(words, 1);
  const start = performance.now();
  Atomics.store(words, 0, 1);
  Atomics.notify(words, 0);
  const notified = performance.now();
  while (Atomics.load(words, 1) === wakes);
  notifyCosts.push((notified - start) * 1000);
  latencies.push(clock[0] - (performance.timeOrigin + start) * 1000);
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const describe = (values) => `median ${median(values).toFixed(0)} µs, max ${Math.max(...values).toFixed(0)} µs`;
console.log(
  `after ${idleMs} ms asleep, ${samples} samples: notify call ${describe(notifyCosts)}; until the sleeper ran ${describe(latencies)}`,
);
await worker.terminate();
