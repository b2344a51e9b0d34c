/** What the queue tests and their worker threads agree on. */
import { SlotClaim } from '../../../src/queue/claim.js';
import type { ClaimTable } from '../../../src/shm/slot.js';
import type { QueueBackend, WorkQueue } from '../../../src/queue/work-queue.js';
import { InjectorBlock, WorkerBlock, injectorWord, workerWord } from '../../../src/shm/layout.js';
import { injectorLevels, workerDeque } from '../../../src/queue/open.js';
import { itemClaimTable } from '../../support/claims.js';
import { recordTake } from '../../support/tally.js';
import type { PoolMemory } from '../../support/shared.js';

/** Which Chase–Lev deque of the layout a thread works on. */
export type QueueKind = 'deque' | 'injector';

/** Words of the test's control buffer. */
export const Control = {
  /** Set by the producer (deque owner or injector producer) once it will push nothing more. */
  PRODUCER_DONE: 0,
  WORDS: 1,
} as const;

export interface QueueThreadData extends PoolMemory {
  queue: QueueKind;
  /** The implementation of the deque this thread uses: threads of one test may differ. */
  impl: QueueBackend;
  control: SharedArrayBuffer;
  /** One counter per item (support/tally.ts). */
  taken: SharedArrayBuffer;
  /** One state word per item (support/claims.ts). */
  claims: SharedArrayBuffer;
  /** This thread's index, recorded as the owner of what it claims. */
  taker: number;
  seed: number;
  /**
   * Given to takers of an injector whose producer withdraws items: withdrawn items they find are
   * handed back and counted here (one counter per item), the way a worker returns a withdrawn
   * call's slot to the main thread.
   */
  handedBack?: SharedArrayBuffer;
}

export interface StealerData extends QueueThreadData {
  /** The producer pushes 0, 1, 2... and never pops, so each stealer must see increasing items. */
  expectFifo: boolean;
  /**
   * Nap now and then while the queue stays empty (support/backoff.ts). An injector producer waits
   * for the consumers when the injector is full, so they must not hold the cores it needs; a
   * deque owner never waits, and its thieves must keep hammering to race its pops.
   */
  backOffWhenEmpty: boolean;
}

export interface StealerStats {
  stolen: number;
  retries: number;
}

export interface ProducerStats {
  pushed: number;
  /** push() calls refused because the queue was full. */
  fullPushes: number;
}

export interface OwnerStats extends ProducerStats {
  popped: number;
  /** pop() calls that found nothing, among them the last-entry races lost to a thief. */
  emptyPops: number;
}

export interface RingThreadData extends PoolMemory {
  entries: number;
  seed: number;
}

export interface RingProducerStats {
  /** Times the producer found the ring full and waited for the consumer. */
  waitsForRoom: number;
}

export interface RingConsumerStats {
  consumed: number;
  drains: number;
}

/**
 * Opens the queue of `kind` over the layout, the way the pool and its workers do, in
 * implementation `impl`, with entries claimed in `claims`.
 */
export function openQueue(memory: PoolMemory, kind: QueueKind, impl: QueueBackend, claims: ClaimTable): WorkQueue {
  const words = new Int32Array(memory.buffer);
  const choice = { backend: impl, claims };
  return kind === 'injector' ? injectorLevels(words, memory.layout, choice)[0] : workerDeque(words, memory.layout, 0, choice);
}

/** A test thread's queue and its claims on the items, as its data describes them. */
export function openThreadQueue(data: QueueThreadData): { queue: WorkQueue; claim: SlotClaim } {
  const table = itemClaimTable(data.claims);
  const handedBack = data.handedBack === undefined ? undefined : new Int32Array(data.handedBack);
  const claim = new SlotClaim(table, data.taker, handedBack && ((slot) => recordTake(handedBack, slot)));
  return { queue: openQueue(data, data.queue, data.impl, table), claim };
}

/** The word indices of the queue's `top` and `bottom`, for inspecting them after a run. */
export function queueIndexWords(memory: PoolMemory, kind: QueueKind): { top: number; bottom: number } {
  const { layout } = memory;
  return kind === 'injector'
    ? { top: injectorWord(layout, 0, InjectorBlock.TOP), bottom: injectorWord(layout, 0, InjectorBlock.BOTTOM) }
    : { top: workerWord(layout, 0, WorkerBlock.DEQUE_TOP), bottom: workerWord(layout, 0, WorkerBlock.DEQUE_BOTTOM) };
}
