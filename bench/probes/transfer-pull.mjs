// What the pull of a moved buffer costs on its own (docs/internals/transfers.md): 1 KB calls, moved
// or copied, one at a time on 2 threads, either back to back or 2 ms apart (the threads fall asleep
// between calls, as they do between the benchmark's runs). Prints p50 and p90 of 200 calls each,
// two alternating rounds. `npm run build && node bench/probes/transfer-pull.mjs`
import { ThreadPool, transfer } from '../../dist/index.js';

const pool = await ThreadPool.create({ module: new URL('../workers/transfer-tasks.mjs', import.meta.url), threads: 2 });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

for (const gapMs of [0, 2]) {
  for (const way of ['copied', 'moved', 'copied', 'moved']) {
    const times = [];
    for (let i = 0; i < 200; i++) {
      if (gapMs > 0) await sleep(gapMs);
      const buffer = new ArrayBuffer(1024);
      const start = performance.now();
      await pool.run('length', way === 'moved' ? transfer(buffer) : buffer);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    console.log(`${gapMs} ms apart, ${way}: p50 ${times[100].toFixed(3)} ms, p90 ${times[180].toFixed(3)} ms`);
  }
}
await pool.close();
