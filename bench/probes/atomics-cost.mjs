// What one JS Atomics operation costs on this machine, next to a plain typed-array read:
// `node bench/probes/atomics-cost.mjs` prints one JSON line of nanoseconds per operation (median of
// 5 timed passes of 10,000,000 operations, each after an untimed pass). bench/native/run.mjs puts it
// beside the C++ deque's figures: the deque's operations are a handful of these each.
import { median } from '../lib/stats.mjs';

const OPS = 10_000_000;
const PASSES = 5;
const shared = new Int32Array(new SharedArrayBuffer(4096));
const plain = new Int32Array(1024);

const operations = {
  'plain Int32Array read': (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += plain[i & 1023];
    return sum;
  },
  'Atomics.load': (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Atomics.load(shared, i & 1023);
    return sum;
  },
  'Atomics.store': (n) => {
    for (let i = 0; i < n; i++) Atomics.store(shared, i & 1023, i);
    return 0;
  },
  'Atomics.compareExchange': (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Atomics.compareExchange(shared, i & 1023, 0, 0);
    return sum;
  },
};

const nsPerOp = {};
for (const [name, run] of Object.entries(operations)) {
  const samples = [];
  for (let pass = 0; pass < PASSES; pass++) {
    run(OPS);
    const start = performance.now();
    run(OPS);
    samples.push(((performance.now() - start) * 1e6) / OPS);
  }
  nsPerOp[name] = median(samples);
}
console.log(JSON.stringify({ ops: OPS, passes: PASSES, nsPerOp }));
