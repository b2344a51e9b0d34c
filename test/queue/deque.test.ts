/**
 * The Chase–Lev deque (src/queue/deque.ts) in its two roles: a worker's own deque (one owner that
 * pushes and pops, thieves that steal) and the injector (one producer that only pushes, consumers
 * that steal). The concurrent tests run on real threads, more of them than the CI machine has
 * cores, so that threads are preempted in the middle of operations, and check that every item is
 * taken exactly once.
 */
import { describe, expect, it } from 'vitest';
import { SlotClaim } from '../../src/queue/claim.js';
import { ChaseLevDeque } from '../../src/queue/deque.js';
import { NativeDeque } from '../../src/queue/native-deque.js';
import { EMPTY, type QueueBackend, RETRY, type WorkQueue } from '../../src/queue/work-queue.js';
import { SlotState, makeStateWord, stateOf } from '../../src/shm/slot.js';
import { claimOwners, itemClaim, itemClaimTable, itemClaimsBuffer } from '../support/claims.js';
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
/** The runs that mix the two implementations on one deque: the conformance evidence. */
const MIXED_ITEMS = scaled(1_000_000);
const TIMEOUT_MS = scaled(60_000);
const IMPLS: QueueBackend[] = ['js', 'native'];
/** Claim words for the single-thread tests' entries (small numbers), named by 7 bits of an entry. */
const ENTRIES = 128;
const ENTRY_SLOT_BITS = 7;

/** A deque of `capacity` over the real layout, with its indices starting at `start`, and a claim on its entries. */
function dequeAt(impl: QueueBackend, start: number, capacity = CAPACITY) {
  const memory = allocatePoolMemory({ dequeCapacity: capacity });
  const claims = itemClaimsBuffer(ENTRIES);
  const table = itemClaimTable(claims, ENTRY_SLOT_BITS);
  const deque = openQueue(memory, 'deque', impl, table);
  deque.reset(start);
  return { deque, claim: itemClaim(table, 1), claims, memory, table };
}

function popAll(deque: WorkQueue): number[] {
  const out: number[] = [];
  for (let entry = deque.pop(); entry !== EMPTY; entry = deque.pop()) out.push(entry);
  return out;
}

describe.each(IMPLS)('the %s deque on one thread', (impl) => {
  // The ordering contract the scheduler relies on: the owner works newest-first (depth-first
  // fork-join), thieves take the oldest (largest) job.
  it.each([0, nearInt32Wrap(2)])('pops LIFO, steals FIFO and reports EMPTY (indices from %i)', (start) => {
    const { deque, claim } = dequeAt(impl, start);
    expect(deque.pop()).toBe(EMPTY);
    expect(deque.steal(claim)).toBe(EMPTY);
    expect(deque.isEmpty()).toBe(true);

    for (const entry of [10, 11, 12, 13]) expect(deque.push(entry)).toBe(true);
    expect(deque.size()).toBe(4);
    expect(deque.steal(claim)).toBe(10);
    expect(deque.pop()).toBe(13);
    expect(deque.steal(claim)).toBe(11);
    expect(deque.pop()).toBe(12);
    expect(deque.pop()).toBe(EMPTY);
    expect(deque.steal(claim)).toBe(EMPTY);
    expect(deque.size()).toBe(0);
  });

  // A bounded deque must refuse rather than overwrite: the caller then runs the job inline.
  // Starting just below 2^31 puts the fill and the refills across the wrap of the indices.
  it.each([0, nearInt32Wrap(CAPACITY / 2)])('refuses a push when full and loses nothing (indices from %i)', (start) => {
    const { deque, claim } = dequeAt(impl, start);
    for (let i = 0; i < CAPACITY; i++) expect(deque.push(i)).toBe(true);
    expect(deque.hasRoom()).toBe(false);
    expect(deque.push(99)).toBe(false);
    expect(deque.size()).toBe(CAPACITY);

    // A steal frees the oldest position, which the next push reuses.
    expect(deque.steal(claim)).toBe(0);
    expect(deque.hasRoom()).toBe(true);
    expect(deque.push(CAPACITY)).toBe(true);
    expect(deque.push(99)).toBe(false);
    expect(popAll(deque)).toEqual(Array.from({ length: CAPACITY }, (_, i) => CAPACITY - i));
  });

  // A thief that stops between claiming a task and removing its entry (a worker terminated there)
  // leaves a claimed task at `top`, never a lost one: the next taker skips the stale entry and
  // takes the one behind.
  it('skips the entry of a task a thief claimed before it stopped', () => {
    const { deque, claim, table } = dequeAt(impl, nearInt32Wrap(1));
    deque.push(10);
    deque.push(11);
    expect(itemClaim(table, 2).claim(10)).toBe(10); // the thief's claim; it stops before moving `top`
    expect(deque.size()).toBe(2);
    expect(deque.steal(claim)).toBe(RETRY);
    expect(deque.steal(claim)).toBe(11);
    expect(deque.steal(claim)).toBe(EMPTY);
  });

  // The claim a steal makes is the pool's: RUNNING, owned by the thief, generation checked.
  it('claims the stolen task for the thief, and not a task of another generation', () => {
    const { deque, claim, claims } = dequeAt(impl, 0);
    const words = new Int32Array(claims);
    deque.push(5);
    deque.push(6);
    deque.push(6 | (1 << ENTRY_SLOT_BITS)); // slot 6, generation 1
    words[6] = makeStateWord(1, 0, SlotState.QUEUED); // slot 6 was freed and queued again since
    expect(deque.steal(claim)).toBe(5);
    expect(words[5]).toBe(makeStateWord(0, 1, SlotState.RUNNING));
    expect(claimOwners(claims).slice(5, 7)).toEqual([1, -1]);
    expect(deque.steal(claim)).toBe(RETRY); // entry 6 names generation 0: stale
    expect(words[6]).toBe(makeStateWord(1, 0, SlotState.QUEUED));
    expect(deque.steal(claim)).toBe(6); // the entry of generation 1 claims it
    expect(words[6]).toBe(makeStateWord(1, 1, SlotState.RUNNING));
  });

  // A call withdrawn by the main thread stays in the injector as a tombstone: a taker that passes
  // the claim a hand-back takes it (RETURNED) for the main thread and runs nothing.
  it('hands a withdrawn call back instead of running it, when the claim takes withdrawn entries', () => {
    const { deque, claims, table } = dequeAt(impl, 0);
    const words = new Int32Array(claims);
    deque.push(7);
    deque.push(8);
    words[7] = makeStateWord(0, 0, SlotState.CANCELLED);
    const handedBack: number[] = [];
    const injectorClaim = new SlotClaim(table, 3, (slot) => handedBack.push(slot));
    expect(deque.steal(injectorClaim)).toBe(RETRY);
    expect(handedBack).toEqual([7]);
    expect(words[7]).toBe(makeStateWord(0, 3, SlotState.RETURNED));
    expect(deque.steal(injectorClaim)).toBe(8);
  });

  // An owner that stops inside pop: its successor learns what is still queued, and a `bottom` left
  // below `top` (the last-entry branch, stopped before restoring it) is lifted so that the
  // successor's pushes are seen.
  it('is repaired for a new owner after the old one stopped inside pop', () => {
    const { deque: owner, memory, table, claim } = dequeAt(impl, 0);
    const words = new Int32Array(memory.buffer);
    const index = queueIndexWords(memory, 'deque');
    for (const entry of [1, 2, 3]) owner.push(entry);
    Atomics.store(words, index.bottom, 2); // pop's first step, then the thread stops: 3 is in its hands
    expect([...openQueue(memory, 'deque', impl, table).adoptOwnership()]).toEqual([1, 2]);

    Atomics.store(words, index.top, 3); // the last-entry branch won `top`...
    Atomics.store(words, index.bottom, 2); // ...and stopped before restoring `bottom`
    const successor = openQueue(memory, 'deque', impl, table);
    expect(successor.adoptOwnership().size).toBe(0);
    expect(successor.push(7)).toBe(true);
    expect(successor.size()).toBe(1);
    expect(successor.steal(claim)).toBe(7);
  });

  it('rejects a capacity that is not a power of two', () => {
    const table = itemClaimTable(itemClaimsBuffer(1));
    const make = () =>
      impl === 'js' ? new ChaseLevDeque(new Int32Array(64), 0, 1, 2, 12) : new NativeDeque(new Int32Array(64), 0, 1, 2, 12, table);
    expect(make).toThrow(RangeError);
  });
});
/** Which implementation the producer (owner) and the takers use in one run. */
interface Mix {
  producer: QueueBackend;
  takers: QueueBackend;
}

/**
 * Runs one producer (the deque's owner or the injector's producer) against THIEVES stealers, then
 * checks that every item was taken exactly once and that the queue ended empty. Returns where
 * `top` ended, for checks specific to the mode.
 */
async function runStealing(kind: QueueKind, start: number, mix: Mix, items: number) {
  const memory = allocatePoolMemory(kind === 'deque' ? { dequeCapacity: CAPACITY } : { slots: CAPACITY });
  const claims = itemClaimsBuffer(items);
  const table = itemClaimTable(claims);
  openQueue(memory, kind, 'js', table).reset(start); // before the threads open their views of it
  const common = { ...memory, queue: kind, control: sharedWords(Control.WORDS), taken: tallyBuffer(items), claims };

  const producer: ThreadSpec = {
    script: new URL(kind === 'deque' ? './workers/deque-owner.ts' : './workers/injector-producer.ts', import.meta.url),
    name: kind === 'deque' ? 'owner' : 'producer',
    data: { ...common, impl: mix.producer, taker: 0, seed: 1, items },
  };
  const stealers = Array.from(
    { length: THIEVES },
    (_, i): ThreadSpec<StealerData> => ({
      script: new URL('./workers/stealer.ts', import.meta.url),
      name: `stealer ${i + 1}`,
      data: {
        ...common,
        impl: mix.takers,
        taker: i + 1,
        seed: i + 2,
        expectFifo: kind === 'injector',
        backOffWhenEmpty: kind === 'injector',
      },
    }),
  );
  const [producerStats, ...stealerStats] = (await runThreads(
    [producer, ...stealers],
    TIMEOUT_MS,
    `${kind} with ${items} items did not drain (an item lost, or a thread stuck)`,
  )) as [ProducerStats, ...StealerStats[]];
  logStats(`${kind} ${mix.producer}/${mix.takers} from ${start}`, { producerStats, stealerStats });

  expect(tallyAnomalies(new Int32Array(common.taken))).toEqual(NO_ANOMALIES);
  // Each item's claim names the thread that recorded it: no taker ran a task claimed by another.
  const owners = claimOwners(claims);
  expect(owners.filter((owner) => owner < 0)).toEqual([]);
  // Nothing left behind: a fresh view (as a respawned owner would open) finds the queue empty.
  const after = openQueue(memory, kind, mix.takers, table);
  expect(after.size()).toBe(0);
  expect(after.steal(itemClaim(table, 9))).toBe(EMPTY);
  expect(after.pop()).toBe(EMPTY);
  const words = new Int32Array(memory.buffer);
  const index = queueIndexWords(memory, kind);
  const top = Atomics.load(words, index.top);
  expect(Atomics.load(words, index.bottom)).toBe(top);
  const stolen = stealerStats.reduce((sum, stats) => sum + stats.stolen, 0);
  // Guards against a vacuous pass: the stealers must really have competed for items.
  expect(stolen).toBeGreaterThan(0);
  expect(owners.filter((owner) => owner > 0).length).toBe(stolen);
  return { top, stolen };
}

const starts = [
  { label: 'indices from 0', start: 0, wraps: false },
  { label: 'indices wrapping past 2^31', start: nearInt32Wrap(100), wraps: true },
];

/** Every pairing of implementations, with the start positions; mixed pairings run more items. */
const runs = IMPLS.flatMap((producer) =>
  IMPLS.flatMap((takers) => starts.map((at) => ({ ...at, mix: { producer, takers }, items: producer === takers ? ITEMS : MIXED_ITEMS }))),
);

describe(`the deque as a worker deque: 1 owner mixing push and pop, ${THIEVES} thieves`, () => {
  it.each(runs)(
    'takes each of $items items exactly once (a $mix.producer owner, $mix.takers thieves, $label)',
    async ({ start, wraps, mix, items }) => {
      const { top, stolen } = await runStealing('deque', start, mix, items);
      // Every steal, and every pop that took the last entry, moved `top` by one.
      expect((top - start) | 0).toBeGreaterThanOrEqual(stolen);
      if (wraps) expect(top).toBeLessThan(0); // the indices really crossed 2^31
    },
    TIMEOUT_MS + 10_000,
  );
});

describe(`the deque as the injector: 1 producer that only pushes, ${THIEVES} consumers`, () => {
  it.each(runs)(
    'hands out each of $items items exactly once, in FIFO order per consumer (a $mix.producer producer, $mix.takers consumers, $label)',
    async ({ start, mix, items }) => {
      const { top } = await runStealing('injector', start, mix, items);
      // Every item left through `top`, so it advanced by exactly the item count, wrapping if it started high.
      expect(top).toBe((start + items) | 0);
    },
    TIMEOUT_MS + 10_000,
  );
});

/**
 * The main thread withdraws calls that sit in the injector while workers claim them: a withdrawal
 * can land between a taker's read of the item's state and its compare-exchange. The taker must then
 * take the tombstone and hand it back, or the withdrawn call's slot would never return.
 */
describe(`withdrawn items in the injector: 1 producer withdrawing some of what it pushed, ${THIEVES} takers`, () => {
  it.each(IMPLS)(
    `each of ${ITEMS} items is either run once or handed back once (%s takers)`,
    async (impl) => {
      const memory = allocatePoolMemory({ slots: CAPACITY });
      const claims = itemClaimsBuffer(ITEMS);
      openQueue(memory, 'injector', 'js', itemClaimTable(claims)).reset(0);
      const handedBack = tallyBuffer(ITEMS);
      const withdrawn = tallyBuffer(ITEMS);
      const common = { ...memory, queue: 'injector' as const, control: sharedWords(Control.WORDS), taken: tallyBuffer(ITEMS), claims };
      const producer: ThreadSpec = {
        script: new URL('./workers/injector-producer.ts', import.meta.url),
        name: 'withdrawing producer',
        data: { ...common, impl: 'js', taker: 0, seed: 1, items: ITEMS, withdrawn },
      };
      const takers = Array.from(
        { length: THIEVES },
        (_, i): ThreadSpec<StealerData> => ({
          script: new URL('./workers/stealer.ts', import.meta.url),
          name: `taker ${i + 1}`,
          data: { ...common, impl, taker: i + 1, seed: i + 2, expectFifo: true, backOffWhenEmpty: true, handedBack },
        }),
      );
      const [producerStats, ...takerStats] = (await runThreads(
        [producer, ...takers],
        TIMEOUT_MS,
        `${ITEMS} items with withdrawals did not drain`,
      )) as [ProducerStats & { withdrawn: number }, ...StealerStats[]];
      logStats(`withdrawals, ${impl} takers`, { producerStats, takerStats });

      const taken = new Int32Array(common.taken);
      const returned = new Int32Array(handedBack);
      const withdrawals = new Int32Array(withdrawn);
      const states = new Int32Array(claims);
      const wrong: string[] = [];
      for (let item = 0; item < ITEMS && wrong.length < 10; item++) {
        const state = stateOf(states[item]);
        const ok =
          withdrawals[item] === 1
            ? returned[item] === 1 && taken[item] === 0 && state === SlotState.RETURNED
            : returned[item] === 0 && taken[item] === 1 && state === SlotState.RUNNING;
        if (!ok)
          wrong.push(`item ${item}: withdrawn ${withdrawals[item]}, run ${taken[item]}, handed back ${returned[item]}, state ${state}`);
      }
      expect(wrong).toEqual([]);
      // Guards against a vacuous pass: withdrawals really happened, and so did runs.
      expect(producerStats.withdrawn).toBeGreaterThan(0);
      expect(takerStats.reduce((sum, stats) => sum + stats.stolen, 0)).toBe(ITEMS - producerStats.withdrawn);
    },
    TIMEOUT_MS + 10_000,
  );
});
