// Pools created and closed one after another leave nothing of theirs on the main thread: no heap
// that grows with the number of pools, no handle, no process listener. Before, Comlink's
// FinalizationRegistry held each worker's control endpoint, the endpoint held the Worker, and the
// Worker's listeners reached the Comlink proxy the registry waited for: on Bun and Deno every
// closed pool (its WorkerHosts, Workers and shared memory, about 50 KiB of heap and 1 MiB of
// buffers) stayed for good. What RSS does past that is the allocator's: bench/results/pool-churn.md.
import { beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import type * as Tasks from '../../fixtures/tasks.mjs';
import { retainedHeap } from '../../support/gc.js';
import { runtime } from '../../support/runtime.js';

const module = new URL('../../fixtures/tasks.mjs', import.meta.url);
const noFunctions = new URL('../../fixtures/no-functions.mjs', import.meta.url);
const KiB = 1024;
/** Pools before the first sample: modules load and code warms up, which is not per-pool memory. */
const WARM_UP = 20;
const CHURNED = 60;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Each round also starts a pool whose create() fails (its module exports no function). */
async function churn(pools: number): Promise<void> {
  for (let i = 0; i < pools; i++) {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    expect(await pool.run('add', i, 1)).toBe(i + 1);
    await pool.close();
    await expect(ThreadPool.create({ module: noFunctions, threads: 2 })).rejects.toThrow(/exports no function/);
  }
}

interface Sample {
  heapUsed: number;
  arrayBuffers: number;
  resources: Record<string, number>;
  processListeners: Record<string, number>;
}

/**
 * Memory once garbage is collected and FinalizationRegistry cleanups (which run on a later turn)
 * have let go of what they held, and the handles and process listeners there are.
 */
async function settledSample(): Promise<Sample> {
  for (let turn = 0; turn < 3; turn++) {
    retainedHeap();
    await pause(50);
  }
  const heapUsed = retainedHeap();
  const resources: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
  const processListeners: Record<string, number> = {};
  for (const event of process.eventNames()) processListeners[String(event)] = process.listenerCount(event);
  return { heapUsed, arrayBuffers: process.memoryUsage().arrayBuffers, resources, processListeners };
}

describe(`${CHURNED} pools created and closed in turn, and as many that fail to start`, () => {
  let before: Sample;
  let after: Sample;

  beforeAll(async () => {
    await churn(WARM_UP);
    before = await settledSample();
    await churn(CHURNED);
    after = await settledSample();
  });

  it('leave no heap that grows with the number of pools', () => {
    // A closed pool kept alive holds about 50 KiB of heap (its hosts, Workers, streams, Comlink
    // proxies): 60 of them, 3 MiB. What is allowed here is less than half a kept pool per pool.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(CHURNED * 20 * KiB);
  });

  // Deno reports no ArrayBuffer memory in process.memoryUsage() (always 0).
  it.skipIf(runtime === 'deno')('leave none of their shared memory behind', () => {
    // Each pool's shared region and deques take about 1 MiB: 60 MiB if kept.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(CHURNED * 64 * KiB);
  });

  it('leave no handle and no process listener', () => {
    expect(after.resources).toEqual(before.resources);
    expect(after.processListeners).toEqual(before.processListeners);
  });
});
