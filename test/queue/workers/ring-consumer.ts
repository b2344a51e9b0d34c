/**
 * The completion ring's consumer (the main thread in the pool): drains until it has seen every
 * entry. Checking that entry k is exactly k proves both "in order" and "exactly once".
 *
 * Now and then it dawdles before draining, so that the ring fills up, the producer has to wait
 * for room, and single drains cross the end of the ring.
 */
import { completionRing } from '../../../src/queue/open.js';
import { busyWait } from '../../support/busy-wait.js';
import { Backoff } from '../../support/backoff.js';
import { Random } from '../../support/random.js';
import { threadMain } from '../../support/thread-main.js';
import type { RingConsumerStats, RingThreadData } from './protocol.js';

threadMain((data: RingThreadData): RingConsumerStats => {
  const ring = completionRing(new Int32Array(data.buffer), data.layout, 0, 'consumer');
  const stats: RingConsumerStats = { consumed: 0, drains: 0 };
  const consume = (entry: number): void => {
    if (entry !== stats.consumed) throw new Error(`entry ${stats.consumed} came out as ${entry}`);
    stats.consumed++;
  };
  const random = new Random(data.seed);
  const backoff = new Backoff();
  while (stats.consumed < data.entries) {
    if (!ring.hasEntries()) {
      backoff.wait();
      continue;
    }
    backoff.reset();
    if (random.below(64) === 0) busyWait(random.below(20_000));
    const before = stats.consumed;
    const count = ring.drain(consume);
    if (count !== stats.consumed - before) throw new Error(`drain returned ${count} but consumed ${stats.consumed - before}`);
    stats.drains++;
  }
  if (ring.hasEntries()) throw new Error('the ring holds entries beyond the last one pushed');
  return stats;
});
