/**
 * The owner of a worker deque: pushes the items 0..n-1 in short random bursts and pops a random
 * share of them back, like a worker that forks jobs and joins them, and now and then pops until
 * the deque is empty, like a worker joining everything it forked. Keeping the deque near empty is
 * deliberate: that is where `pop` and `steal` race for the last entry. Popping to the end also
 * moves `top` (the last entry is claimed through it) even when the thieves get no CPU time, so
 * the wrapping test is sure to see `top` cross 2^31.
 */
import { EMPTY } from '../../../src/queue/work-queue.js';
import { Random } from '../../support/random.js';
import { recordTake } from '../../support/tally.js';
import { threadMain } from '../../support/thread-main.js';
import { Control, type OwnerStats, type QueueThreadData, openThreadQueue } from './protocol.js';

interface OwnerData extends QueueThreadData {
  items: number;
}

threadMain((data: OwnerData): OwnerStats => {
  const { queue: deque, claim } = openThreadQueue(data);
  const taken = new Int32Array(data.taken);
  const random = new Random(data.seed);
  const stats: OwnerStats = { pushed: 0, popped: 0, emptyPops: 0, fullPushes: 0 };

  const popOne = (): boolean => {
    const entry = deque.pop();
    // A thief may have claimed the last entry before the owner popped it: then it is the thief's.
    if (entry === EMPTY || claim.claim(entry) < 0) {
      stats.emptyPops++;
      return false;
    }
    recordTake(taken, entry);
    stats.popped++;
    return true;
  };

  let next = 0;
  while (next < data.items) {
    const burst = 1 + random.below(4);
    for (let i = 0; i < burst && next < data.items; i++) {
      if (deque.push(next)) {
        next++;
        stats.pushed++;
      } else {
        // Full: the item was not queued and is pushed again once a pop made room.
        stats.fullPushes++;
        popOne();
      }
    }
    const pops = random.below(burst + 1);
    for (let i = 0; i < pops; i++) popOne(); // may overshoot: pop on an empty deque races steals too
    if (random.below(8) === 0) while (popOne());
  }
  // Join everything still queued. Once pop finds nothing the deque stays empty: only we push.
  while (popOne());
  Atomics.store(new Int32Array(data.control), Control.PRODUCER_DONE, 1);
  return stats;
});
