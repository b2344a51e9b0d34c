// Per-operation costs of one deque implementation: `node --import tsx bench/native/queue-ops.ts
// <js|native> [--quick]` times every operation once and prints one JSON line. bench/native/run.mjs
// runs it round after round, alternating the implementations, each in a process of its own: in a
// process that used both, every call site would see two classes and the JIT would compile both
// worse than an application, which uses one, gets them.
import { Worker } from 'node:worker_threads';
import type { QueueBackend } from '../../src/queue/work-queue.js';
import { EMPTY } from '../../src/queue/work-queue.js';
import { allocate, open, requeueAll } from './memory.js';

const impl = process.argv[2] as QueueBackend;
if (impl !== 'js' && impl !== 'native') throw new Error('usage: node --import tsx bench/native/queue-ops.ts <js|native> [--quick]');
const quick = process.argv.includes('--quick');
const OPS = quick ? 500_000 : 2_000_000;
const CAPACITY = 1024;
const CONTENDED_ITEMS = quick ? 500_000 : 2_000_000;

/** Nanoseconds per operation of `body(ops)`, after one untimed warm-up call. */
function timePerOp(body: (ops: number) => void, ops: number): number {
  body(ops);
  const start = performance.now();
  body(ops);
  return ((performance.now() - start) * 1e6) / ops;
}

/** The owner's push immediately followed by its pop: the fork-join fast path. */
function pushPop(impl: QueueBackend): number {
  const memory = allocate(1, CAPACITY, CAPACITY);
  const { deque } = open(memory, impl, 0, 0);
  return timePerOp((ops) => {
    for (let i = 0; i < ops; i++) {
      deque.push(i & 1023);
      if (deque.pop() === EMPTY) throw new Error('pop after push found nothing');
    }
  }, OPS);
}

/** A snapshot of the length: two loads, so close to the bare cost of calling into the implementation. */
function size(impl: QueueBackend): number {
  const memory = allocate(1, CAPACITY, CAPACITY);
  const { deque } = open(memory, impl, 0, 0);
  deque.push(1);
  let sum = 0;
  const ns = timePerOp((ops) => {
    for (let i = 0; i < ops; i++) sum += deque.size();
  }, OPS);
  if (sum === 0) throw new Error('size() saw nothing');
  return ns;
}

/** One thread stealing a full deque empty (claim included), refilled untimed between passes. */
function stealUncontended(impl: QueueBackend): number {
  const memory = allocate(1, CAPACITY, CAPACITY);
  const { deque, claim } = open(memory, impl, 0, 1);
  let elapsed = 0;
  const passes = Math.ceil(OPS / CAPACITY);
  for (let pass = 0; pass < 2 * passes; pass++) {
    requeueAll(memory);
    for (let i = 0; i < CAPACITY; i++) deque.push(i);
    const start = performance.now();
    for (let i = 0; i < CAPACITY; i++) if (deque.steal(claim) !== i) throw new Error('steal out of order');
    if (pass >= passes) elapsed += performance.now() - start; // the first half warms up
  }
  return (elapsed * 1e6) / (passes * CAPACITY);
}

/**
 * Two threads stealing one prefilled deque empty at the same time: every steal races the other
 * thief for `top`. Per steal = the slower thread's time / items; retries are the races lost.
 */
async function stealContended(impl: QueueBackend): Promise<{ ns: number; retries: number }> {
  const memory = allocate(1, 1 << 22, CONTENDED_ITEMS);
  requeueAll(memory);
  const { deque } = open(memory, impl, 0, 0);
  for (let i = 0; i < CONTENDED_ITEMS; i++) if (!deque.push(i)) throw new Error('deque full');
  const start = new Int32Array(new SharedArrayBuffer(8));
  const thieves = [1, 2].map(
    (taker) =>
      new Worker(new URL('./bootstrap.mjs', import.meta.url), {
        workerData: { entry: new URL('./steal-thread.ts', import.meta.url).href, data: { memory, impl, taker, start: start.buffer } },
      }),
  );
  const reports = thieves.map(
    (thief) =>
      new Promise<{ ms: number; stolen: number; retries: number }>((resolve, reject) => {
        thief.once('message', resolve);
        thief.once('error', reject);
      }),
  );
  while (Atomics.load(start, 1) < thieves.length) await new Promise((resolve) => setTimeout(resolve, 5));
  Atomics.store(start, 0, 1);
  Atomics.notify(start, 0);
  const results = await Promise.all(reports);
  await Promise.all(thieves.map((thief) => thief.terminate()));
  const stolen = results.reduce((sum, r) => sum + r.stolen, 0);
  if (stolen !== CONTENDED_ITEMS) throw new Error(`contended steal took ${stolen} of ${CONTENDED_ITEMS} items`);
  return { ns: (Math.max(...results.map((r) => r.ms)) * 1e6) / CONTENDED_ITEMS, retries: results.reduce((sum, r) => sum + r.retries, 0) };
}

const operations = {
  'size (crossing cost)': size,
  'push + pop (owner)': pushPop,
  'steal, uncontended (with claim)': stealUncontended,
} as const;

const nsPerOp: Record<string, number> = {};
for (const [name, measure] of Object.entries(operations)) nsPerOp[name] = measure(impl);
const contended = await stealContended(impl);
nsPerOp['steal, 2 thieves contending'] = contended.ns;
console.log(JSON.stringify({ impl, ops: OPS, contendedItems: CONTENDED_ITEMS, nsPerOp, contendedRetries: contended.retries }));
