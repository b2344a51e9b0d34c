// Does it matter what the waker does right after waking a thread? One worker parks in Atomics.wait;
// every 0.3 ms the main thread stores, notifies, and then waits for the worker's answer either
// idle (Atomics.waitAsync) or polling from setImmediate callbacks, as an event loop with work would.
// Prints the time from the notify to the worker running, p50/p90/p99, for both, twice.
// `node bench/probes/wake-affinity.mjs [samples]`
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';

const now = () => performance.timeOrigin + performance.now();

if (isMainThread) {
  const samples = Number(process.argv[2] ?? 1000);
  // Int32 [0] the word the worker parks on, [1] answers given, [2] stop; Float64 [2] notified at, [3] ran at.
  const buffer = new SharedArrayBuffer(64);
  const words = new Int32Array(buffer);
  const clock = new Float64Array(buffer);
  const worker = new Worker(new URL(import.meta.url), { workerData: buffer });
  await sleep(200);
  const answered = (seen) => Atomics.load(words, 1) !== seen;
  const waits = {
    idle: async (seen) => {
      const wait = Atomics.waitAsync(words, 1, seen);
      if (wait.async) await wait.value;
    },
    polling: (seen) =>
      new Promise(function poll(resolve) {
        if (answered(seen)) resolve();
        else setImmediate(() => poll(resolve));
      }),
  };
  for (const mode of ['idle', 'polling', 'idle', 'polling']) {
    const micros = [];
    for (let i = 0; i < samples; i++) {
      await sleep(0.3);
      const seen = Atomics.load(words, 1);
      clock[2] = now();
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      await waits[mode](seen);
      micros.push((clock[3] - clock[2]) * 1000);
    }
    micros.sort((a, b) => a - b);
    const at = (q) => micros[Math.floor(q * micros.length)].toFixed(1);
    console.log(`waker ${mode.padEnd(7)}: notify to running, p50 ${at(0.5)} µs, p90 ${at(0.9)} µs, p99 ${at(0.99)} µs`);
  }
  Atomics.store(words, 2, 1);
  Atomics.store(words, 0, 1);
  Atomics.notify(words, 0);
  await worker.terminate();
} else {
  const words = new Int32Array(workerData);
  const clock = new Float64Array(workerData);
  while (Atomics.load(words, 2) === 0) {
    Atomics.wait(words, 0, 0);
    clock[3] = now();
    Atomics.store(words, 0, 0);
    Atomics.add(words, 1, 1);
    Atomics.notify(words, 1);
  }
}
