/**
 * The injector's single producer (the main thread in the pool): pushes 0..n-1 in order and never
 * pops, retrying while the injector is full.
 */
import { Backoff } from '../../support/backoff.js';
import { threadMain } from '../../support/thread-main.js';
import { Control, type ProducerStats, type QueueThreadData, openThreadQueue } from './protocol.js';

interface ProducerData extends QueueThreadData {
  items: number;
}

threadMain((data: ProducerData): ProducerStats => {
  const injector = openThreadQueue(data).queue;
  const stats: ProducerStats = { pushed: 0, fullPushes: 0 };
  const backoff = new Backoff();
  for (let item = 0; item < data.items; item++) {
    while (!injector.push(item)) {
      stats.fullPushes++;
      backoff.wait();
    }
    backoff.reset();
    stats.pushed++;
  }
  Atomics.store(new Int32Array(data.control), Control.PRODUCER_DONE, 1);
  return stats;
});
