// How often does a thread that never blocks lose its CPU? The main thread and `threads` workers
// each read the clock in a tight loop for `seconds` and count the gaps between two reads longer
// than 0.1 ms and 0.5 ms: time the thread was not running. On a quiet machine with a core per
// thread there are next to none; a virtual machine whose host deschedules its vCPUs shows them.
// `node bench/probes/vcpu-stalls.mjs [threads] [seconds]`
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

function stalls(ms) {
  const gaps = [];
  let last = performance.now();
  const end = last + ms;
  while (last < end) {
    const now = performance.now();
    if (now - last > 0.1) gaps.push(now - last);
    last = now;
  }
  return gaps;
}

if (isMainThread) {
  const threads = Number(process.argv[2] ?? 1);
  const seconds = Number(process.argv[3] ?? 3);
  const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: seconds }));
  const theirs = workers.map((worker) => new Promise((resolve) => worker.once('message', resolve)));
  const rows = [['main', stalls(seconds * 1000)], ...(await Promise.all(theirs)).map((gaps, i) => [`worker ${i}`, gaps])];
  for (const [name, gaps] of rows) {
    const total = gaps.reduce((sum, gap) => sum + gap, 0);
    console.log(
      `${name.padEnd(9)}: ${(gaps.length / seconds).toFixed(0)} stalls/s over 0.1 ms, ` +
        `${(gaps.filter((gap) => gap > 0.5).length / seconds).toFixed(1)}/s over 0.5 ms, ` +
        `${((total / (seconds * 1000)) * 100).toFixed(1)} % of the time, longest ${Math.max(0, ...gaps).toFixed(2)} ms`,
    );
  }
  await Promise.all(workers.map((worker) => worker.terminate()));
} else {
  parentPort.postMessage(stalls(workerData * 1000));
}
