/** What the queue tests and their worker threads agree on. */
import type { ChaseLevDeque, ClaimEntry } from '../../../src/queue/deque.js';
import { InjectorBlock, WorkerBlock, injectorWord, workerWord } from '../../../src/shm/layout.js';
import { injectorLevels, workerDeque } from '../../../src/shm/views.js';
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
  control: SharedArrayBuffer;
  /** One counter per item (support/tally.ts). */
  taken: SharedArrayBuffer;
  /** One claim word per item (claimOnce). */
  claims: SharedArrayBuffer;
  seed: number;
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

/** Opens the queue of `kind` over the layout, the way the pool and its workers do. */
export function openQueue(memory: PoolMemory, kind: QueueKind): ChaseLevDeque {
  const words = new Int32Array(memory.buffer);
  return kind === 'injector' ? injectorLevels(words, memory.layout)[0] : workerDeque(words, memory.layout, 0);
}

/** The word indices of the queue's `top` and `bottom`, for inspecting them after a run. */
export function queueIndexWords(memory: PoolMemory, kind: QueueKind): { top: number; bottom: number } {
  const { layout } = memory;
  return kind === 'injector'
    ? { top: injectorWord(layout, 0, InjectorBlock.TOP), bottom: injectorWord(layout, 0, InjectorBlock.BOTTOM) }
    : { top: workerWord(layout, 0, WorkerBlock.DEQUE_TOP), bottom: workerWord(layout, 0, WorkerBlock.DEQUE_BOTTOM) };
}

/**
 * The claim a taker makes before an entry leaves the queue, as the pool's slot claim does: one
 * compare-exchange per item, so that of two takers that read the same entry only one takes it.
 */
export function claimOnce(claims: SharedArrayBuffer): ClaimEntry {
  const words = new Int32Array(claims);
  return (entry) => (Atomics.compareExchange(words, entry, 0, 1) === 0 ? entry : -1);
}
