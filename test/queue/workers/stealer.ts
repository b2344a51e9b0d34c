/**
 * A thief of a worker deque, or a consumer of the injector: steals until the producer is done and
 * the queue is empty. RETRY (a lost race, or an entry another taker claimed) is simply retried, as
 * the worker runtime does.
 */
import { EMPTY, RETRY } from '../../../src/queue/work-queue.js';
import { Backoff } from '../../support/backoff.js';
import { recordTake } from '../../support/tally.js';
import { threadMain } from '../../support/thread-main.js';
import { Control, type StealerData, type StealerStats, openThreadQueue } from './protocol.js';

threadMain((data: StealerData): StealerStats => {
  const { queue, claim } = openThreadQueue(data);
  const control = new Int32Array(data.control);
  const taken = new Int32Array(data.taken);
  const stats: StealerStats = { stolen: 0, retries: 0 };
  const backoff = new Backoff();
  let last = -1;
  for (;;) {
    // Read the flag before stealing: an EMPTY steal after the producer finished means empty for good.
    const producerDone = Atomics.load(control, Control.PRODUCER_DONE) === 1;
    const entry = queue.steal(claim);
    if (entry === RETRY) {
      stats.retries++;
      continue;
    }
    if (entry === EMPTY) {
      if (producerDone) return stats;
      if (data.backOffWhenEmpty) backoff.wait();
      continue;
    }
    backoff.reset();
    recordTake(taken, entry);
    stats.stolen++;
    if (data.expectFifo) {
      if (entry <= last) throw new Error(`steal returned ${entry} after ${last}: not FIFO`);
      last = entry;
    }
  }
});
