/**
 * The completion ring (src/queue/completion-ring.ts): the single-producer, single-consumer path by
 * which a worker hands finished task slots back to the main thread. A lost or repeated entry there
 * is a call that never settles or settles twice, so the concurrent test pushes millions of entries
 * through a small ring (its positions reused many times over) and checks they come out exactly
 * once and in order, also with positions that wrap past 2^31.
 */
import { describe, expect, it } from 'vitest';
import { ThreadPoolError } from '../../src/errors.js';
import { CompletionRing } from '../../src/queue/completion-ring.js';
import { WorkerBlock, workerWord } from '../../src/shm/layout.js';
import { completionRing } from '../../src/queue/open.js';
import { type PoolMemory, allocatePoolMemory, nearInt32Wrap } from '../support/shared.js';
import { logStats, scaled } from '../support/stress.js';
import { runThreads } from '../support/threads.js';
import type { RingConsumerStats, RingProducerStats, RingThreadData } from './workers/protocol.js';

const CAPACITY = 64;
const ENTRIES = scaled(2_000_000);
const TIMEOUT_MS = scaled(30_000);

/** A ring over the real layout with both ends at `start`, and its two sides. */
function ringAt(start: number, capacity = CAPACITY) {
  const memory = allocatePoolMemory({ slots: capacity });
  const words = new Int32Array(memory.buffer);
  const producer = completionRing(words, memory.layout, 0, 'producer');
  producer.reset(start);
  // The consumer reads its position when it is created, so it must be created after the reset.
  const consumer = completionRing(words, memory.layout, 0, 'consumer');
  return { memory, producer, consumer };
}

function drainAll(ring: CompletionRing): number[] {
  const out: number[] = [];
  ring.drain((entry) => out.push(entry));
  return out;
}

describe('CompletionRing on one thread', () => {
  it.each([0, nearInt32Wrap(3)])('delivers entries oldest first (positions from %i)', (start) => {
    const { producer, consumer } = ringAt(start);
    expect(consumer.hasEntries()).toBe(false);
    for (const entry of [5, 6, 7, 8, 9]) producer.push(entry);
    expect(consumer.hasEntries()).toBe(true);
    expect(drainAll(consumer)).toEqual([5, 6, 7, 8, 9]);
    expect(consumer.hasEntries()).toBe(false);
    expect(drainAll(consumer)).toEqual([]);
  });

  // Overflow means the slot-count invariant broke; the ring must fail loudly, never overwrite.
  it('throws instead of overwriting when full, and loses nothing', () => {
    const { producer, consumer } = ringAt(0);
    for (let i = 0; i < CAPACITY; i++) producer.push(i);
    expect(() => producer.push(CAPACITY)).toThrow(/completion ring overflow/);
    expect(() => producer.push(CAPACITY)).toThrow(ThreadPoolError);
    expect(drainAll(consumer)).toEqual(Array.from({ length: CAPACITY }, (_, i) => i));
  });

  // drain() publishes each entry's head before consuming it, because consuming frees a slot that
  // may complete again (and be pushed) before the drain returns. Entries pushed during a drain
  // wait for the next one: drain() only takes what was published when it started.
  it('has room for an entry pushed while a full ring is being drained', () => {
    const { producer, consumer } = ringAt(nearInt32Wrap(CAPACITY / 2));
    for (let i = 0; i < CAPACITY; i++) producer.push(i);
    const seen: number[] = [];
    const count = consumer.drain((entry) => {
      seen.push(entry);
      producer.push(CAPACITY + entry);
    });
    expect(count).toBe(CAPACITY);
    expect(seen).toEqual(Array.from({ length: CAPACITY }, (_, i) => i));
    expect(drainAll(consumer)).toEqual(Array.from({ length: CAPACITY }, (_, i) => CAPACITY + i));
  });

  // Consuming runs listeners, whose calls submit and so drain again from inside a drain. Each entry
  // must still be consumed once, in order, and the outer drain must stop at the position the inner
  // one reached, also when the inner one took entries pushed after the outer one started.
  it.each([0, nearInt32Wrap(4)])('consumes each entry once when a drain runs inside a drain (positions from %i)', (start) => {
    const { producer, consumer } = ringAt(start);
    for (const entry of [1, 2, 3, 4, 5, 6]) producer.push(entry);
    const seen: number[] = [];
    const inner: number[] = [];
    const outer = consumer.drain((entry) => {
      seen.push(entry);
      if (entry === 2) {
        producer.push(7);
        inner.push(consumer.drain((nested) => seen.push(nested)));
      }
    });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect([outer, inner]).toEqual([2, [5]]);
    expect(consumer.hasEntries()).toBe(false);
    producer.push(8);
    expect(drainAll(consumer)).toEqual([8]);
  });

  it('rejects a capacity that is not a power of two', () => {
    expect(() => new CompletionRing(new Int32Array(64), 0, 1, 2, 12, 'producer')).toThrow(RangeError);
  });
});

describe('CompletionRing with a producer and a consumer thread', () => {
  it.each([
    ['positions from 0', 0],
    ['positions wrapping past 2^31', nearInt32Wrap(1000)],
  ])(
    `delivers ${ENTRIES} entries exactly once and in order (%s)`,
    async (_, start) => {
      const { memory } = ringAt(start);
      const data: RingThreadData = { ...memory, entries: ENTRIES, seed: 7 };
      const [producerStats, consumerStats] = (await runThreads(
        [
          { script: new URL('./workers/ring-producer.ts', import.meta.url), name: 'producer', data },
          { script: new URL('./workers/ring-consumer.ts', import.meta.url), name: 'consumer', data },
        ],
        TIMEOUT_MS,
        `the consumer did not receive all ${ENTRIES} entries`,
      )) as [RingProducerStats, RingConsumerStats];
      logStats(`ring from ${start}`, { producerStats, consumerStats });

      // The consumer thread checked order and count; here: both ends met where they should.
      expect(consumerStats.consumed).toBe(ENTRIES);
      expect(ringEnds(memory)).toEqual({ head: (start + ENTRIES) | 0, tail: (start + ENTRIES) | 0 });
    },
    TIMEOUT_MS + 10_000,
  );
});

function ringEnds(memory: PoolMemory): { head: number; tail: number } {
  const words = new Int32Array(memory.buffer);
  return {
    head: Atomics.load(words, workerWord(memory.layout, 0, WorkerBlock.RING_HEAD)),
    tail: Atomics.load(words, workerWord(memory.layout, 0, WorkerBlock.RING_TAIL)),
  };
}
