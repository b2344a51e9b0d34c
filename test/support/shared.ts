/**
 * The pool's real shared-memory layout, allocated for a test. Queues are then opened with the same
 * src/shm/views.ts functions the pool and its workers use, on both sides of the test, so the tests
 * exercise the real word addresses and padding rather than a hand-made arrangement.
 */
import { type Layout, type LayoutParams, computeLayout } from '../../src/shm/layout.js';

export interface PoolMemory {
  buffer: SharedArrayBuffer;
  layout: Layout;
}

export function allocatePoolMemory(params: Partial<LayoutParams>): PoolMemory {
  const layout = computeLayout({
    threads: 1,
    slots: 1,
    nestedSlots: 1,
    inlinePayloadBytes: 0,
    dequeCapacity: 1,
    mailboxCapacity: 1,
    ...params,
  });
  return { buffer: new SharedArrayBuffer(layout.totalBytes), layout };
}

/** An index just below 2^31, so that queue positions starting there wrap early in a test. */
export function nearInt32Wrap(before: number): number {
  return 0x7fffffff - before;
}

/** Int32 words for a test's own flags and counters, shared with its threads. */
export function sharedWords(count: number): SharedArrayBuffer {
  return new SharedArrayBuffer(count * Int32Array.BYTES_PER_ELEMENT);
}
