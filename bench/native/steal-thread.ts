// One thief of the contended-steal benchmark: waits for the start word, steals from deque 0 until
// it is empty, and reports how long that took and how often it lost a race.
import { parentPort, workerData } from 'node:worker_threads';
import { EMPTY, RETRY } from '../../src/queue/work-queue.js';
import { type BenchMemory, allocate, open, requeueAll } from './memory.js';

interface ThiefData {
  memory: BenchMemory;
  impl: 'js' | 'native';
  taker: number;
  start: SharedArrayBuffer;
}

const data = workerData.data as ThiefData;
const { deque, claim } = open(data.memory, data.impl, 0, data.taker);
const start = new Int32Array(data.start);
// Warm the steal path up before the timed run, on a deque of its own that it refills.
const scratch = allocate(1, 1024, 1024);
const warm = open(scratch, data.impl, 0, data.taker);
for (let pass = 0; pass < 100; pass++) {
  requeueAll(scratch);
  for (let i = 0; i < 1024; i++) warm.deque.push(i);
  while (warm.deque.steal(warm.claim) !== EMPTY);
}
Atomics.add(start, 1, 1);
Atomics.wait(start, 0, 0);
let stolen = 0;
let retries = 0;
const begin = performance.now();
for (;;) {
  const slot = deque.steal(claim);
  if (slot === EMPTY) break;
  if (slot === RETRY) retries++;
  else stolen++;
}
parentPort!.postMessage({ ms: performance.now() - begin, stolen, retries });
