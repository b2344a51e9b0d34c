// How many asynchronous tasks one worker should keep in flight (`asyncTasksPerWorker`): for each
// bound, on a 2-thread pool,
//   - I/O-bound: 400 tasks that await a 20 ms timer and then work 0.05 ms: throughput;
//   - mixed: 200 tasks that await 5 ms and then work 1 ms (enough CPU for both threads): how long
//     the batch takes against the ideal (total work / threads);
//   - a synchronous call made while 2 long async tasks (500 ms timers) are in flight: its latency.
// `node bench/probes/async-bound.mjs [bounds, default 1,2,4,8,16,32,64]`
import { ThreadPool } from '../../dist/index.js';

const module = new URL('../workers/async-tasks.mjs', import.meta.url);
const bounds = (process.argv[2] ?? '1,2,4,8,16,32,64').split(',').map(Number);

async function timed(run) {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

console.log('| asyncTasksPerWorker | I/O-bound tasks/s | mixed: time ÷ ideal | sync call beside 2 pending async tasks, ms |');
console.log('| ---: | ---: | ---: | ---: |');
for (const bound of bounds) {
  const pool = await ThreadPool.create({ module, threads: 2, asyncTasksPerWorker: bound });
  await pool.runBatch(
    'waitThenWork',
    Array.from({ length: 50 }, () => [1, 0.05]),
  ); // warm-up
  const ioMs = await timed(() => Promise.all(Array.from({ length: 400 }, () => pool.run('waitThenWork', 20, 0.05))));
  const mixedMs = await timed(() => Promise.all(Array.from({ length: 200 }, () => pool.run('waitThenWork', 5, 1))));
  const ideal = (200 * 1) / 2;
  const pending = [pool.run('waitThenWork', 500, 0), pool.run('waitThenWork', 500, 0)];
  await new Promise((resolve) => setTimeout(resolve, 20));
  const syncMs = await timed(() => pool.run('add', 1, 2));
  await Promise.all(pending);
  console.log(
    `| ${bound} | ${Math.round(400 / (ioMs / 1000)).toLocaleString('en-US')} | ${(mixedMs / ideal).toFixed(2)} | ${syncMs.toFixed(1)} |`,
  );
  await pool.close();
}
