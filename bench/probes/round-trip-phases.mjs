// How a request/response loop's tail changes over the first thousands of round trips: a fresh
// pool of 2 threads runs `count` (default 12,000) trivial calls one at a time, each awaited, and
// for every block of 1,000 prints how many took over 200 µs, the block's p99, and how many times
// the workers parked meanwhile. `bare` does the same over two bare workers and postMessage.
// `node bench/probes/round-trip-phases.mjs [viscose|bare] [count]`
import { Worker } from 'node:worker_threads';
import { ThreadPool } from '../../dist/index.js';
import { trivialRequests } from '../lib/trivial-requests.mjs';

const which = process.argv[2] ?? 'viscose';
const count = Number(process.argv[3] ?? 12_000);
const BLOCK = 1_000;

async function openViscose() {
  const pool = await ThreadPool.create({ module: new URL('../workers/viscose-tasks.mjs', import.meta.url), threads: 2 });
  return {
    run: (request) => pool.run('trivial', request),
    parks: () => pool.statistics().workers.reduce((sum, worker) => sum + worker.parks, 0),
    close: () => pool.close(),
  };
}

async function openBare() {
  const workers = [0, 1].map(() => new Worker(new URL('../workers/bare-tasks.mjs', import.meta.url)));
  let next = 0;
  const run = (request) =>
    new Promise((resolve) => {
      const id = next++;
      const thread = workers[id % workers.length];
      const answer = (message) => {
        if (message.id !== id) return;
        thread.off('message', answer);
        resolve(message.result);
      };
      thread.on('message', answer);
      thread.postMessage({ id, name: 'trivial', arg: request });
    });
  return { run, parks: () => Number.NaN, close: () => Promise.all(workers.map((thread) => thread.terminate())) };
}

const engine = which === 'bare' ? await openBare() : await openViscose();
const requests = trivialRequests(count);
const micros = new Float64Array(count);
const blocks = [];
let parksBefore = engine.parks();
for (let start = 0; start < count; start += BLOCK) {
  const end = Math.min(count, start + BLOCK);
  for (let i = start; i < end; i++) {
    const began = performance.now();
    await engine.run(requests[i]);
    micros[i] = (performance.now() - began) * 1000;
  }
  const parks = engine.parks();
  const sorted = Array.from(micros.subarray(start, end)).sort((a, b) => a - b);
  const slow = sorted.filter((value) => value > 200).length;
  const p99 = sorted[Math.floor(sorted.length * 0.99)];
  blocks.push(`${slow}/${p99.toFixed(0)}${Number.isNaN(parks) ? '' : `/${parks - parksBefore}`}`);
  parksBefore = parks;
}
console.log(`${which}: per ${BLOCK} round trips, over 200 µs / p99 µs${which === 'bare' ? '' : ' / worker parks'}:`);
console.log(blocks.join('  '));
await engine.close();
