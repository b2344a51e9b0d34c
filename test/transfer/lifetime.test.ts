// What becomes of values moved with transfer() when their call never runs: aborted while queued,
// or queued when the pool is terminated. The main thread holds them until a worker pulls them;
// here no worker does, so the call's end must let go of them (their memory is freed) and the
// caller's copy stays detached.
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AbortError, PoolClosedError, ThreadPool, transfer } from 'viscose';
import type * as Tasks from '../fixtures/transfer-tasks.mjs';
import { retainedHeap } from '../support/gc.js';
import { openGate, shutGate } from '../support/gate.js';
import { runtime } from '../support/runtime.js';
import { waitFor } from '../support/wait-for.js';

const module = new URL('../fixtures/transfer-tasks.mjs', import.meta.url);
const MB = 1024 * 1024;
const SIZE = 32 * MB;
const CALLS = 4;

/** Memory held by ArrayBuffers after a full collection (0 where the runtime does not count it). */
function arrayBufferBytes(): number {
  retainedHeap();
  return process.memoryUsage().arrayBuffers ?? 0;
}

/** Fresh buffers of SIZE bytes, written so that their pages are really in use. */
function buffers(): Uint8Array[] {
  return Array.from({ length: CALLS }, () => new Uint8Array(SIZE).fill(3));
}

const counts = runtime === 'node';

/**
 * Waits until the memory held by ArrayBuffers is back within one buffer of `before` (Node only).
 * Values nobody pulled live on the main thread alone, so its own collections free them; the
 * reading lags a collection by a moment (V8 frees backing stores on a helper thread).
 */
async function lettingGo(before: number): Promise<void> {
  if (counts) await waitFor(() => arrayBufferBytes() - before < SIZE, 10_000);
}

/** Spins the main thread (no turn of its event loop) until a worker runs one of its calls. */
function spinUntilClaimed(pool: ThreadPool<typeof Tasks>): void {
  const until = Date.now() + 10_000;
  while (pool.statistics().slots.main.running === 0) {
    if (Date.now() > until) throw new Error('no worker claimed the call within 10 s');
  }
}

describe('transfers of calls that never run', () => {
  it('an abort before any worker took the call lets go of what it held', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const before = arrayBufferBytes();
    // The only worker is held for the whole test, so no worker can take the calls.
    const gate = shutGate();
    const blocker = pool.run('holdUntilOpened', gate);
    try {
      await waitFor(() => Atomics.load(gate, 1) === 1);
      const controller = new AbortController();
      const sent = buffers();
      const calls = sent.map((bytes) => pool.with({ signal: controller.signal }).run('length', transfer(bytes)));
      for (const bytes of sent) expect(bytes.byteLength).toBe(0);
      sent.length = 0;
      controller.abort();
      for (const call of calls) await expect(call).rejects.toBeInstanceOf(AbortError);
      await lettingGo(before);
    } finally {
      // Even when a check failed: the pool's disposal waits for the worker.
      openGate(gate);
    }
    await blocker;
    // The pool is unharmed: the next transfer still moves.
    expect(await pool.run('length', transfer(new ArrayBuffer(10)))).toBe(10);
  });

  it('an abort after a worker claimed the call, before it pulled, stops the task and lets go', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const before = arrayBufferBytes();
    const runs = new Int32Array(new SharedArrayBuffer(4));
    const controller = new AbortController();
    let bytes: Uint8Array | undefined = new Uint8Array(SIZE).fill(3);
    const call = pool.with({ signal: controller.signal }).run('countedLength', runs, transfer(bytes));
    bytes = undefined;
    // The worker claims the call and asks for its values, but the main thread answers only at its
    // next turn: the abort comes first.
    spinUntilClaimed(pool);
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(AbortError);
    // One worker: once the next call is done, the aborted one is over.
    expect(await pool.run('length', transfer(new ArrayBuffer(10)))).toBe(10);
    expect(Atomics.load(runs, 0)).toBe(0);
    await lettingGo(before);
  });

  it('terminate with calls queued lets go of what they held, ports closed', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const before = arrayBufferBytes();
    const blocker = pool.run('busy', 300).catch((error: unknown) => error);
    const sent = buffers();
    const calls = sent.map((bytes) => pool.run('length', transfer(bytes)).catch((error: unknown) => error));
    sent.length = 0;
    const { port1, port2 } = new MessageChannel();
    const closed = new Promise<void>((resolve) => port1.once('close', resolve));
    const portCall = pool.run('stream', transfer(port2), 1).catch((error: unknown) => error);
    await pool.terminate();
    for (const outcome of await Promise.all([...calls, portCall])) expect(outcome).toBeInstanceOf(PoolClosedError);
    await blocker;
    // The held end was closed, so the caller's end hears of it instead of waiting forever (Deno does
    // not tell a port's peer that a port it cloned with a transfer was closed).
    if (runtime !== 'deno') await closed;
    port1.close();
    await lettingGo(before);
  });

  it('close runs the queued calls, which pull what they moved', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const blocker = pool.run('busy', 100);
    const calls = [1, 2, 3].map((size) => pool.run('length', transfer(new ArrayBuffer(size))));
    await pool.close();
    expect(await Promise.all(calls)).toEqual([1, 2, 3]);
    await blocker;
  });
});
