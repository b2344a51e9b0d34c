// A worker that publishes a completion while the main thread is parked takes the doorbell
// (clears MAIN_PARKED), then rings it. One that dies between the two leaves the main thread parked
// with no one to ring, while every later completion goes unseen: crash recovery wakes it
// (src/pool/data-plane.ts). Bun's terminate() often lands in that window; the fault-injection test
// hung there. Here the main thread takes the doorbell itself, as the dead worker would have, and a
// worker then dies.
import { expect, it } from 'vitest';
import { ThreadPool, WorkerCrashedError } from 'viscose';
import { Header } from '../../src/shm/layout.js';
import type * as Tasks from '../fixtures/tasks.mjs';
import { rejection } from '../support/rejection.js';
import { waitFor } from '../support/wait-for.js';

const module = new URL('../fixtures/tasks.mjs', import.meta.url);

/** The pool's shared header words: private, reached into because no public call shows them. */
function headerWords(pool: ThreadPool<typeof Tasks>): Int32Array {
  return (pool as unknown as { plane: { views: { words: Int32Array } } }).plane.views.words;
}

it('a worker that dies holding the main thread’s doorbell does not leave later completions unseen', async () => {
  const pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
  const words = headerWords(pool);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  let timer: NodeJS.Timeout | undefined;
  try {
    await pool.run('ticket', flag); // announces the buffer to the workers
    Atomics.store(flag, 0, 0);
    const held = pool.run('holdUntil', flag);
    held.catch(() => {}); // terminate() below rejects it if it never settled
    await waitFor(() => Atomics.load(words, Header.MAIN_PARKED) === 1);
    expect(Atomics.compareExchange(words, Header.MAIN_PARKED, 1, 0)).toBe(1);
    // The other worker dies; the held call's worker finishes afterwards and sees no one waiting.
    expect(await rejection(pool.run('exit', 3))).toBeInstanceOf(WorkerCrashedError);
    Atomics.store(flag, 0, 1);
    const unseen = new Promise((resolve) => (timer = setTimeout(resolve, 10_000, 'never settled')));
    expect(await Promise.race([held, unseen])).toBe(0);
  } finally {
    clearTimeout(timer);
    // Not close(): it would wait for a call that never settles when the test fails.
    await pool.terminate();
  }
});
