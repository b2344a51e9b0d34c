// Shared memory for the queue benchmarks: the pool's real layout, one state word per item for the
// claims, and the queues opened as the pool opens them, in either implementation.
import { SlotClaim } from '../../src/queue/claim.js';
import type { ClaimTable } from '../../src/shm/slot.js';
import type { QueueBackend, WorkQueue } from '../../src/queue/work-queue.js';
import { type Layout, computeLayout } from '../../src/shm/layout.js';
import { SlotState, makeStateWord } from '../../src/shm/slot.js';
import { workerDeque } from '../../src/queue/open.js';

export interface BenchMemory {
  buffer: SharedArrayBuffer;
  layout: Layout;
  /** One state word per item. */
  claims: SharedArrayBuffer;
}

export function allocate(threads: number, dequeCapacity: number, items: number): BenchMemory {
  const layout = computeLayout({ threads, slots: 1, nestedSlots: 1, inlinePayloadBytes: 0, dequeCapacity, mailboxCapacity: 1 });
  return { buffer: new SharedArrayBuffer(layout.totalBytes), layout, claims: new SharedArrayBuffer(items * 4) };
}

/** Every item QUEUED again (between timed runs). */
export function requeueAll(memory: BenchMemory): void {
  new Int32Array(memory.claims).fill(makeStateWord(0, 0, SlotState.QUEUED));
}

export function claimTable(memory: BenchMemory): ClaimTable {
  return { words: new Int32Array(memory.claims), baseWord: 0, strideWords: 1, slotBits: 31 };
}

/** Worker `index`'s deque in implementation `impl`, and a claim for taker `taker`. */
export function open(
  memory: BenchMemory,
  impl: QueueBackend,
  index: number,
  taker: number,
  table = claimTable(memory),
): { deque: WorkQueue; claim: SlotClaim } {
  const deque = workerDeque(new Int32Array(memory.buffer), memory.layout, index, { backend: impl, claims: table });
  return { deque, claim: new SlotClaim(table, taker) };
}
