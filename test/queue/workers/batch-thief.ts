/**
 * A thief that takes work in batches: it moves up to a few of the oldest entries of the owner's
 * deque (deque 0) into its own deque with `stealBatch`, then pops and claims them, and now and then
 * steals a single entry from another thief's deque, the way a worker steals from a worker that
 * batch-stole. It stops once the owner is done and the owner's deque and its own are empty (only it
 * puts entries into its own deque).
 */
import { EMPTY } from '../../../src/queue/work-queue.js';
import { workerDeque } from '../../../src/queue/open.js';
import { Random } from '../../support/random.js';
import { recordTake } from '../../support/tally.js';
import { threadMain } from '../../support/thread-main.js';
import { Control, type QueueThreadData, openThreadQueue } from './protocol.js';

export interface BatchThiefData extends QueueThreadData {
  /** Number of worker deques in the layout: the owner's (0) and one per thief. */
  deques: number;
}

export interface BatchThiefStats {
  batches: number;
  moved: number;
  taken: number;
  stolenFromThieves: number;
}

threadMain((data: BatchThiefData): BatchThiefStats => {
  const { queue: victim, claim } = openThreadQueue(data);
  const words = new Int32Array(data.buffer);
  const choice = { backend: data.impl, claims: claim.table };
  const own = workerDeque(words, data.layout, data.taker, choice);
  const others = Array.from({ length: data.deques }, (_, i) => workerDeque(words, data.layout, i, choice));
  const control = new Int32Array(data.control);
  const taken = new Int32Array(data.taken);
  const random = new Random(data.seed);
  const stats: BatchThiefStats = { batches: 0, moved: 0, taken: 0, stolenFromThieves: 0 };
  const record = (slot: number): void => {
    recordTake(taken, slot);
    stats.taken++;
  };
  for (;;) {
    const producerDone = Atomics.load(control, Control.PRODUCER_DONE) === 1;
    const moved = victim.stealBatch(own, 1 + random.below(8));
    if (moved > 0) {
      stats.batches++;
      stats.moved += moved;
    }
    // A copy whose move was lost names a task someone else claimed: its claim fails, it is skipped.
    for (let entry = own.pop(); entry !== EMPTY; entry = own.pop()) {
      const slot = claim.claim(entry);
      if (slot >= 0) record(slot);
    }
    if (random.below(4) === 0) {
      const other = 1 + random.below(data.deques - 1);
      if (other !== data.taker) {
        const slot = others[other].steal(claim);
        if (slot >= 0) {
          record(slot);
          stats.stolenFromThieves++;
        }
      }
    }
    if (producerDone && victim.isEmpty() && own.isEmpty()) return stats;
  }
});
