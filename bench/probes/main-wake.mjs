// What waking the parked main thread costs on this machine, without any pool: the main thread
// parks (`Atomics.waitAsync`, or waiting for a MessagePort message), a worker works `delayUs`
// (default 2,000) and then signals; the main thread records the time from the signal to its
// callback, and its own CPU time per wake (process.threadCpuUsage, Node 23.9 and later).
// `node bench/probes/main-wake.mjs [waitAsync|port] [delayUs] [samples]`
import { Worker } from 'node:worker_threads';

const mode = process.argv[2] ?? 'waitAsync';
const delayUs = Number(process.argv[3] ?? 2_000);
const samples = Number(process.argv[4] ?? 1_000);
const shared = new SharedArrayBuffer(64);
// [0] the request number the worker waits on, [1] the doorbell the main thread parks on.
const words = new Int32Array(shared);
// When the worker signalled (performance.timeOrigin + performance.now(), ms).
const signalledAt = new Float64Array(shared, 32, 1);
const worker = new Worker(
  `const { workerData: { shared, delayUs, mode }, parentPort } = require('node:worker_threads');
   const words = new Int32Array(shared);
   const signalledAt = new Float64Array(shared, 32, 1);
   for (let seen = 0; ; ) {
     Atomics.wait(words, 0, seen);
     seen = Atomics.load(words, 0);
     if (seen < 0) break;
     const until = performance.now() + delayUs / 1000;
     while (performance.now() < until);
     signalledAt[0] = performance.timeOrigin + performance.now();
     if (mode === 'port') parentPort.postMessage(seen);
     else { Atomics.add(words, 1, 1); Atomics.notify(words, 1); }
   }`,
  { eval: true, workerData: { shared, delayUs, mode } },
);
let answered;
worker.on('message', () => answered());
const latencies = [];
const cpuBefore = process.threadCpuUsage?.();
for (let request = 1; request <= samples; request++) {
  const answer = mode === 'port' ? new Promise((resolve) => (answered = resolve)) : undefined;
  const bell = Atomics.load(words, 1);
  Atomics.store(words, 0, request);
  Atomics.notify(words, 0);
  if (answer !== undefined) await answer;
  else {
    const wait = Atomics.waitAsync(words, 1, bell);
    if (wait.async) await wait.value;
  }
  latencies.push((performance.timeOrigin + performance.now() - signalledAt[0]) * 1000);
}
const cpu = cpuBefore === undefined ? undefined : process.threadCpuUsage(cpuBefore);
Atomics.store(words, 0, -1);
Atomics.notify(words, 0);
await worker.terminate();
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(0);
console.log(
  `${mode}, the worker working ${delayUs} µs before each signal: signal → main thread's callback ` +
    `p50 ${at(0.5)} µs, p99 ${at(0.99)} µs, max ${at(1)} µs`,
);
if (cpu !== undefined) {
  console.log(`main-thread CPU per wake: user ${(cpu.user / samples).toFixed(1)} µs, system ${(cpu.system / samples).toFixed(1)} µs`);
}
