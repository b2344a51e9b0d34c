/**
 * The injector's single producer (the main thread in the pool): pushes 0..n-1 in order and never
 * pops, retrying while the injector is full. Given a `withdrawn` buffer it also acts as the main
 * thread does when callers abort: now and then it withdraws one of the items it pushed last
 * (QUEUED → CANCELLED by compare-exchange, as `Dispatcher.cancel` does), so that withdrawals race
 * the takers' claims of the very same items; each withdrawal that wins is counted there, and the
 * taker that finds the item must hand it back.
 */
import { SlotState, makeStateWord } from '../../../src/shm/slot.js';
import { Backoff } from '../../support/backoff.js';
import { Random } from '../../support/random.js';
import { recordTake } from '../../support/tally.js';
import { threadMain } from '../../support/thread-main.js';
import { Control, type ProducerStats, type QueueThreadData, openThreadQueue } from './protocol.js';

interface ProducerData extends QueueThreadData {
  items: number;
  /** One counter per item: withdrawals that won. */
  withdrawn?: SharedArrayBuffer;
}

const QUEUED = makeStateWord(0, 0, SlotState.QUEUED);
const CANCELLED = makeStateWord(0, 0, SlotState.CANCELLED);

threadMain((data: ProducerData): ProducerStats & { withdrawn: number } => {
  const injector = openThreadQueue(data).queue;
  const states = new Int32Array(data.claims);
  const withdrawn = data.withdrawn === undefined ? undefined : new Int32Array(data.withdrawn);
  const random = new Random(data.seed);
  const stats = { pushed: 0, fullPushes: 0, withdrawn: 0 };
  const backoff = new Backoff();
  for (let item = 0; item < data.items; item++) {
    while (!injector.push(item)) {
      stats.fullPushes++;
      backoff.wait();
    }
    backoff.reset();
    stats.pushed++;
    if (withdrawn !== undefined && random.below(3) === 0) {
      const victim = item - random.below(3);
      if (victim >= 0 && Atomics.compareExchange(states, victim, QUEUED, CANCELLED) === QUEUED) {
        recordTake(withdrawn, victim);
        stats.withdrawn++;
      }
    }
  }
  Atomics.store(new Int32Array(data.control), Control.PRODUCER_DONE, 1);
  return stats;
});
