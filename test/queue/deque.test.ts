/**
 * The Chase–Lev deque (src/queue/deque.ts) in its two roles: a worker's own deque (one owner that
 * pushes and pops, thieves that steal) and the injector (one producer that only pushes, consumers
 * that steal). The concurrent tests run on real threads, more of them than the CI machine has
 * cores, so that threads are preempted in the middle of operations, and check that every item is
 * taken exactly once.
 */
import { describe, expect, it } from 'vitest';
import { ChaseLevDeque, EMPTY, RETRY } from '../../src/queue/deque.js';
import { allocatePoolMemory, nearInt32Wrap, sharedWords } from '../support/shared.js';
import { logStats, scaled } from '../support/stress.js';
import { NO_ANOMALIES, tallyAnomalies, tallyBuffer } from '../support/tally.js';
import { type ThreadSpec, runThreads } from '../support/threads.js';
import {
  Control,
  type ProducerStats,
  type QueueKind,
  type StealerData,
  type StealerStats,
  openQueue,
  queueIndexWords,
} from './workers/protocol.js';

const CAPACITY = 16;
const THIEVES = 3;
const ITEMS = scaled(500_000);
const TIMEOUT_MS = scaled(30_000);

/** A deque of `capacity` over the real layout, with its indices starting at `start`. */
function dequeAt(start: number, capacity = CAPACITY): ChaseLevDeque {
  const memory = allocatePoolMemory({ dequeCapacity: capacity });
  const deque = openQueue(memory, 'deque');
  deque.reset(start);
  return deque;
}

/** A claim that always succeeds: one thread, nobody to race. */
const anyEntry = (entry: number): number => entry;

function popAll(deque: ChaseLevDeque): number[] {
  const out: number[] = [];
  for (let entry = deque.pop(); entry !== EMPTY; entry = deque.pop()) out.push(entry);
  return out;
}

describe('ChaseLevDeque on one thread', () => {
  // The ordering contract the scheduler relies on: the owner works newest-first (depth-first
  // fork-join), thieves take the oldest (largest) job.
  it.each([0, nearInt32Wrap(2)])('pops LIFO, steals FIFO and reports EMPTY (indices from %i)', (start) => {
    const deque = dequeAt(start);
    expect(deque.pop()).toBe(EMPTY);
    expect(deque.steal(anyEntry)).toBe(EMPTY);
    expect(deque.isEmpty()).toBe(true);

    for (const entry of [10, 11, 12, 13]) expect(deque.push(entry)).toBe(true);
    expect(deque.size()).toBe(4);
    expect(deque.steal(anyEntry)).toBe(10);
    expect(deque.pop()).toBe(13);
    expect(deque.steal(anyEntry)).toBe(11);
    expect(deque.pop()).toBe(12);
    expect(deque.pop()).toBe(EMPTY);
    expect(deque.steal(anyEntry)).toBe(EMPTY);
    expect(deque.size()).toBe(0);
  });

  // A bounded deque must refuse rather than overwrite: the caller then runs the job inline.
  // Starting just below 2^31 puts the fill and the refills across the wrap of the indices.
  it.each([0, nearInt32Wrap(CAPACITY / 2)])('refuses a push when full and loses nothing (indices from %i)', (start) => {
    const deque = dequeAt(start);
    for (let i = 0; i < CAPACITY; i++) expect(deque.push(i)).toBe(true);
    expect(deque.push(99)).toBe(false);
    expect(deque.size()).toBe(CAPACITY);

    // A steal frees the oldest position, which the next push reuses.
    expect(deque.steal(anyEntry)).toBe(0);
    expect(deque.push(CAPACITY)).toBe(true);
    expect(deque.push(99)).toBe(false);
    expect(popAll(deque)).toEqual(Array.from({ length: CAPACITY }, (_, i) => CAPACITY - i));
  });

  // A thief that stops between claiming a task and removing its entry (a worker terminated there)
  // leaves a stale entry, never a lost task: the next taker skips it and takes the one behind.
  it('skips the entry of a task a thief claimed before it stopped', () => {
    const deque = dequeAt(nearInt32Wrap(1));
    deque.push(10);
    deque.push(11);
    const claimed = new Set<number>();
    const claimOnce = (entry: number): number => (claimed.has(entry) ? -1 : (claimed.add(entry), entry));
    const stopsAfterClaiming = (entry: number): number => {
      claimOnce(entry);
      throw new Error('thread stopped');
    };
    expect(() => deque.steal(stopsAfterClaiming)).toThrow('thread stopped');
    expect(deque.size()).toBe(2);
    expect(deque.steal(claimOnce)).toBe(RETRY);
    expect(deque.steal(claimOnce)).toBe(11);
    expect(deque.steal(claimOnce)).toBe(EMPTY);
  });

  // An owner that stops inside pop: its successor learns what is still queued, and a `bottom` left
  // below `top` (the last-entry branch, stopped before restoring it) is lifted so that the
  // successor's pushes are seen.
  it('is repaired for a new owner after the old one stopped inside pop', () => {
    const memory = allocatePoolMemory({ dequeCapacity: CAPACITY });
    const words = new Int32Array(memory.buffer);
    const index = queueIndexWords(memory, 'deque');
    const owner = openQueue(memory, 'deque');
    owner.reset(0);
    for (const entry of [1, 2, 3]) owner.push(entry);
    Atomics.store(words, index.bottom, 2); // pop's first step, then the thread stops: 3 is in its hands
    expect([...openQueue(memory, 'deque').adoptOwnership()]).toEqual([1, 2]);

    Atomics.store(words, index.top, 3); // the last-entry branch won `top`...
    Atomics.store(words, index.bottom, 2); // ...and stopped before restoring `bottom`
    const successor = openQueue(memory, 'deque');
    expect(successor.adoptOwnership().size).toBe(0);
    expect(successor.push(7)).toBe(true);
    expect(successor.size()).toBe(1);
    expect(successor.steal(anyEntry)).toBe(7);
  });

  it('rejects a capacity that is not a power of two', () => {
    expect(() => new ChaseLevDeque(new Int32Array(64), 0, 1, 2, 12)).toThrow(RangeError);
  });
});

/**
 * Runs one producer (the deque's owner or the injector's producer) against THIEVES stealers, then
 * checks that every item was taken exactly once and that the queue ended empty. Returns where
 * `top` ended, for checks specific to the mode.
 */
async function runStealing(kind: QueueKind, start: number) {
  const memory = allocatePoolMemory(kind === 'deque' ? { dequeCapacity: CAPACITY } : { slots: CAPACITY });
  openQueue(memory, kind).reset(start); // before the threads open their views of it
  const common = { ...memory, queue: kind, control: sharedWords(Control.WORDS), taken: tallyBuffer(ITEMS), claims: tallyBuffer(ITEMS) };

  const producer: ThreadSpec = {
    script: new URL(kind === 'deque' ? './workers/deque-owner.ts' : './workers/injector-producer.ts', import.meta.url),
    name: kind === 'deque' ? 'owner' : 'producer',
    data: { ...common, seed: 1, items: ITEMS },
  };
  const stealers = Array.from(
    { length: THIEVES },
    (_, i): ThreadSpec<StealerData> => ({
      script: new URL('./workers/stealer.ts', import.meta.url),
      name: `stealer ${i + 1}`,
      data: { ...common, seed: i + 2, expectFifo: kind === 'injector', backOffWhenEmpty: kind === 'injector' },
    }),
  );
  const [producerStats, ...stealerStats] = (await runThreads(
    [producer, ...stealers],
    TIMEOUT_MS,
    `${kind} with ${ITEMS} items did not drain (an item lost, or a thread stuck)`,
  )) as [ProducerStats, ...StealerStats[]];
  logStats(`${kind} from ${start}`, { producerStats, stealerStats });

  expect(tallyAnomalies(new Int32Array(common.taken))).toEqual(NO_ANOMALIES);
  // Nothing left behind: a fresh view (as a respawned owner would open) finds the queue empty.
  const after = openQueue(memory, kind);
  expect(after.size()).toBe(0);
  expect(after.steal(anyEntry)).toBe(EMPTY);
  expect(after.pop()).toBe(EMPTY);
  const words = new Int32Array(memory.buffer);
  const index = queueIndexWords(memory, kind);
  const top = Atomics.load(words, index.top);
  expect(Atomics.load(words, index.bottom)).toBe(top);
  const stolen = stealerStats.reduce((sum, stats) => sum + stats.stolen, 0);
  // Guards against a vacuous pass: the stealers must really have competed for items.
  expect(stolen).toBeGreaterThan(0);
  return { top, stolen };
}

const starts = [
  { label: 'indices from 0', start: 0, wraps: false },
  { label: 'indices wrapping past 2^31', start: nearInt32Wrap(100), wraps: true },
];

describe(`ChaseLevDeque as a worker deque: 1 owner mixing push and pop, ${THIEVES} thieves`, () => {
  it.each(starts)(
    `takes each of ${ITEMS} items exactly once ($label)`,
    async ({ start, wraps }) => {
      const { top, stolen } = await runStealing('deque', start);
      // Every steal, and every pop that took the last entry, moved `top` by one.
      expect((top - start) | 0).toBeGreaterThanOrEqual(stolen);
      if (wraps) expect(top).toBeLessThan(0); // the indices really crossed 2^31
    },
    TIMEOUT_MS + 10_000,
  );
});

describe(`ChaseLevDeque as the injector: 1 producer that only pushes, ${THIEVES} consumers`, () => {
  it.each(starts)(
    `hands out each of ${ITEMS} items exactly once, in FIFO order per consumer ($label)`,
    async ({ start }) => {
      const { top } = await runStealing('injector', start);
      // Every item left through `top`, so it advanced by exactly ITEMS, wrapping if it started high.
      expect(top).toBe((start + ITEMS) | 0);
    },
    TIMEOUT_MS + 10_000,
  );
});
