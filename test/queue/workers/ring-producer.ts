/**
 * The completion ring's producer (a worker in the pool): publishes 0..n-1 in order. In the pool the
 * slot count bounds what can be in flight, so the ring never fills; here nothing else does, so the
 * producer waits for the consumer's `head` to leave room, as the test's stand-in for that bound.
 */
import { WorkerBlock, workerWord } from '../../../src/shm/layout.js';
import { completionRing } from '../../../src/queue/open.js';
import { Backoff } from '../../support/backoff.js';
import { threadMain } from '../../support/thread-main.js';
import type { RingProducerStats, RingThreadData } from './protocol.js';

threadMain((data: RingThreadData): RingProducerStats => {
  const words = new Int32Array(data.buffer);
  const ring = completionRing(words, data.layout, 0, 'producer');
  const head = workerWord(data.layout, 0, WorkerBlock.RING_HEAD);
  const tail = workerWord(data.layout, 0, WorkerBlock.RING_TAIL);
  const stats: RingProducerStats = { waitsForRoom: 0 };
  const backoff = new Backoff();
  const full = (): boolean => ((Atomics.load(words, tail) - Atomics.load(words, head)) | 0) >= ring.capacity;
  for (let entry = 0; entry < data.entries; entry++) {
    if (full()) {
      stats.waitsForRoom++;
      while (full()) backoff.wait();
      backoff.reset();
    }
    ring.push(entry);
  }
  return stats;
});
