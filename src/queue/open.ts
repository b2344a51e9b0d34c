/**
 * The queue objects every thread builds over the pool's shared buffer: the deques, the FIFO lanes,
 * the injector levels, the completion rings and the mailboxes. Every thread builds them from the same layout,
 * so they agree on every address.
 */
import {
  FIFO_LANES,
  InjectorBlock,
  LaneBlock,
  type Layout,
  PRIORITY_LEVELS,
  WorkerBlock,
  injectorWord,
  workerWord,
} from '../shm/layout.js';
import type { ClaimTable } from '../shm/slot.js';
import { CompletionRing } from './completion-ring.js';
import { ChaseLevDeque } from './deque.js';
import { Mailbox } from './mailbox.js';
import { NativeDeque } from './native-deque.js';
import type { QueueBackend, WorkQueue } from './work-queue.js';

/** Which deque implementation to open, and the slot table its entries name (for native claims). */
export interface QueueChoice {
  backend: QueueBackend;
  claims: ClaimTable;
}

function openDeque(words: Int32Array, top: number, bottom: number, ring: number, capacity: number, choice: QueueChoice): WorkQueue {
  return choice.backend === 'native'
    ? new NativeDeque(words, top, bottom, ring, capacity, choice.claims)
    : new ChaseLevDeque(words, top, bottom, ring, capacity);
}

/** Worker i's deque: owned by worker i, stolen from by everyone else. */
export function workerDeque(words: Int32Array, layout: Layout, worker: number, choice: QueueChoice): WorkQueue {
  return openDeque(
    words,
    workerWord(layout, worker, WorkerBlock.DEQUE_TOP),
    workerWord(layout, worker, WorkerBlock.DEQUE_BOTTOM),
    workerWord(layout, worker, layout.dequeRing),
    layout.dequeCapacity,
    choice,
  );
}

/**
 * Worker i's FIFO lanes (docs/internals/scopes.md): worker i pushes, every worker (worker i too)
 * takes the oldest entry with `steal`, which makes each a single-producer, multi-consumer FIFO.
 */
export function workerFifoLanes(words: Int32Array, layout: Layout, worker: number, choice: QueueChoice): WorkQueue[] {
  const lanes: WorkQueue[] = [];
  for (let lane = 0; lane < FIFO_LANES; lane++) {
    const base = layout.fifoLanes + lane * layout.fifoLaneStride;
    lanes.push(
      openDeque(
        words,
        workerWord(layout, worker, base + LaneBlock.TOP),
        workerWord(layout, worker, base + LaneBlock.BOTTOM),
        workerWord(layout, worker, base + LaneBlock.FIXED_WORDS),
        layout.dequeCapacity,
        choice,
      ),
    );
  }
  return lanes;
}

/** The injector levels, highest priority first: owned (pushed to) by the main thread. */
export function injectorLevels(words: Int32Array, layout: Layout, choice: QueueChoice): WorkQueue[] {
  const levels: WorkQueue[] = [];
  for (let level = 0; level < PRIORITY_LEVELS; level++) {
    levels.push(
      openDeque(
        words,
        injectorWord(layout, level, InjectorBlock.TOP),
        injectorWord(layout, level, InjectorBlock.BOTTOM),
        injectorWord(layout, level, layout.injectorRing),
        layout.injectorCapacity,
        choice,
      ),
    );
  }
  return levels;
}

/** Worker i's completion ring, from the producer's (worker) or the consumer's (main) side. */
export function completionRing(words: Int32Array, layout: Layout, worker: number, side: 'producer' | 'consumer'): CompletionRing {
  return new CompletionRing(
    words,
    workerWord(layout, worker, WorkerBlock.RING_HEAD),
    workerWord(layout, worker, WorkerBlock.RING_TAIL),
    workerWord(layout, worker, layout.completionRing),
    layout.completionCapacity,
    side,
  );
}

/** Worker i's mailbox: jobs addressed to worker i, posted by anyone. */
export function workerMailbox(words: Int32Array, layout: Layout, worker: number): Mailbox {
  return new Mailbox(
    words,
    workerWord(layout, worker, WorkerBlock.MAILBOX_COUNT),
    workerWord(layout, worker, layout.mailbox),
    layout.mailboxCapacity,
  );
}
