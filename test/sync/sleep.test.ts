/**
 * The sleep protocol (src/sync/sleep.ts, src/sync/sleep-counters.ts): idle workers spin, get
 * sleepy, register as sleeping and park; producers wake them through `newJobs`. Its one job is
 * that no posted work waits while every worker sleeps (a lost wake-up), which on real threads
 * looks like a hang. The single-thread tests pin down the steps that make that impossible; the
 * stress test runs the protocol on more threads than cores with irregular posting and fails with
 * a message when jobs stop being run.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY } from '../../src/queue/work-queue.js';
import { WorkerBlock, workerWord } from '../../src/shm/layout.js';
import { injectorLevels } from '../../src/queue/open.js';
import { itemClaim, itemClaimTable, itemClaimsBuffer } from '../support/claims.js';
import { sharedNow } from '../../src/sync/clock.js';
import { AWAKE, BLOCKED, IdleState, PARK, SEARCH, Sleep } from '../../src/sync/sleep.js';
import { type PoolMemory, allocatePoolMemory, sharedWords } from '../support/shared.js';
import { logStats, scaled } from '../support/stress.js';
import { NO_ANOMALIES, tallyAnomalies, tallyBuffer } from '../support/tally.js';
import { type ThreadSpec, withThreads, withTimeout } from '../support/threads.js';
import {
  Control,
  type ProducerData,
  type ProducerStats,
  type SleepTestData,
  type WorkerData,
  type WorkerStats,
} from './workers/protocol.js';

const SPIN_MICROS = 10;
const LATER = Number.POSITIVE_INFINITY; // a `now` past any spin budget

/** Worker `index`'s state and searching words. */
function workerState(memory: PoolMemory, index: number): { state: number; searching: number } {
  const words = new Int32Array(memory.buffer);
  return {
    state: Atomics.load(words, workerWord(memory.layout, index, WorkerBlock.SLEEP_STATE)),
    searching: Atomics.load(words, workerWord(memory.layout, index, WorkerBlock.SEARCHING)),
  };
}

describe('Sleep protocol steps, on one thread', () => {
  const nothingQueued = (): boolean => false;
  /** A queue holding `count` jobs, as newJobs sees it. */
  const queued = (count: number) => ({ size: () => count });

  /** Two workers' worth of shared state, with one Sleep view that plays every role. */
  function setup() {
    const memory = allocatePoolMemory({ threads: 2 });
    return { memory, sleep: new Sleep(new Int32Array(memory.buffer), memory.layout, SPIN_MICROS) };
  }

  /** Walks worker `self` from idle to the point where its next fruitless search registers it. */
  function getSleepy(sleep: Sleep, self: number): IdleState {
    const idle = new IdleState();
    sleep.startLooking(self, idle);
    expect(sleep.noWorkFound(idle, self, LATER, nothingQueued)).toBe(SEARCH); // spin budget spent: sleepy
    return idle;
  }

  it('spins before getting sleepy, and parks only on the search after that', () => {
    const { sleep } = setup();
    const idle = new IdleState();
    sleep.startLooking(0, idle);
    expect(sleep.noWorkFound(idle, 0, idle.spinUntil - 0.001, nothingQueued)).toBe(SEARCH);
    expect(idle.jec).toBe(-1); // still within the spin budget
    expect(sleep.noWorkFound(idle, 0, LATER, nothingQueued)).toBe(SEARCH);
    expect(idle.jec).toBeGreaterThanOrEqual(0); // sleepy
    expect(sleep.noWorkFound(idle, 0, LATER, nothingQueued)).toBe(PARK);
    expect(sleep.sleepingCount()).toBe(1);
  });

  // The jobs event counter: work posted between "sleepy" and "register" must send the worker back
  // to searching, or it would park next to a job it never looked for.
  it('does not let a worker that got sleepy before a post register after it', () => {
    const { memory, sleep } = setup();
    const idle = getSleepy(sleep, 0);
    sleep.newJobs(queued(1));
    expect(sleep.noWorkFound(idle, 0, LATER, nothingQueued)).toBe(SEARCH);
    expect(sleep.sleepingCount()).toBe(0);
    expect(workerState(memory, 0).state).toBe(AWAKE);
  });

  // The final check runs after the BLOCKED store, so a post that the counter check missed (a
  // producer that saw no sleeper yet) is still seen there.
  it('cancels the registration when the final check sees work', () => {
    const { memory, sleep } = setup();
    const idle = getSleepy(sleep, 0);
    expect(sleep.noWorkFound(idle, 0, LATER, () => true)).toBe(SEARCH);
    expect(sleep.sleepingCount()).toBe(0);
    expect(workerState(memory, 0).state).toBe(AWAKE);
  });

  it('wakes a parked worker for a new job, and only the waker decrements the count', () => {
    const { memory, sleep } = setup();
    const idle = getSleepy(sleep, 0);
    expect(sleep.noWorkFound(idle, 0, LATER, nothingQueued)).toBe(PARK);
    expect(workerState(memory, 0).state).toBe(BLOCKED);

    sleep.newJobs(queued(1));
    expect(workerState(memory, 0).state).toBe(AWAKE);
    expect(sleep.sleepingCount()).toBe(0);
    sleep.cancelSleep(0); // the worker's own cancel after losing the race changes nothing
    expect(sleep.sleepingCount()).toBe(0);
    expect(sleep.parkSync(0, Number.POSITIVE_INFINITY)).toBe(true); // at once: no longer BLOCKED
  });

  // A park that times out leaves the worker registered; it must cancel to be counted awake again.
  it('keeps a worker registered after its park times out, until it cancels', () => {
    const { memory, sleep } = setup();
    const idle = getSleepy(sleep, 0);
    expect(sleep.noWorkFound(idle, 0, LATER, nothingQueued)).toBe(PARK);
    expect(sleep.parkSync(0, 1)).toBe(false);
    expect(workerState(memory, 0).state).toBe(BLOCKED);
    expect(sleep.sleepingCount()).toBe(1);
    sleep.cancelSleep(0);
    expect(workerState(memory, 0).state).toBe(AWAKE);
    expect(sleep.sleepingCount()).toBe(0);
  });

  // Rayon's rule: a worker that is awake and searching will take the job, so a single new job
  // does not also wake a sleeper; a second queued job does.
  it('counts awake searching workers before waking sleepers (tasks longer than a wake)', () => {
    const { memory, sleep } = setup();
    sleep.taskFinished(1, 2_000_000); // worker 1's tasks take 2 ms
    const idle = getSleepy(sleep, 0);
    expect(sleep.noWorkFound(idle, 0, LATER, nothingQueued)).toBe(PARK);
    sleep.startLooking(1, new IdleState());

    sleep.newJobs(queued(1)); // the searcher takes it
    expect(workerState(memory, 0).state).toBe(BLOCKED);
    sleep.newJobs(queued(2)); // one job more than searchers
    expect(workerState(memory, 0).state).toBe(AWAKE);
    expect(sleep.sleepingCount()).toBe(0);
  });

  it('wakes nobody when awake workers with short tasks clear the backlog faster than a wake', () => {
    const { memory, sleep } = setup();
    sleep.taskFinished(1, 2_000); // worker 1's tasks take 2 µs
    const idle = getSleepy(sleep, 0);
    expect(sleep.noWorkFound(idle, 0, LATER, nothingQueued)).toBe(PARK);
    // Busy with a task that just started. Stamped a second ahead so that however slowly this test
    // runs on a loaded machine, the task never looks as if it had been running for long.
    sleep.taskStarted(1, sharedNow() + 1000);

    sleep.newJobs(queued(3));
    expect(workerState(memory, 0).state).toBe(BLOCKED);
    // A backlog the busy worker needs longer than a wake for does wake the sleeper.
    sleep.newJobs(queued(500));
    expect(workerState(memory, 0).state).toBe(AWAKE);
  });

  it("wakes a sleeper when the busy worker's current task has run longer than a wake", () => {
    const { memory, sleep } = setup();
    sleep.taskFinished(1, 2_000); // short on average...
    const idle = getSleepy(sleep, 0);
    expect(sleep.noWorkFound(idle, 0, LATER, nothingQueued)).toBe(PARK);
    sleep.taskStarted(1, sharedNow() - 10); // ...but this one started 10 ms ago

    sleep.newJobs(queued(1));
    expect(workerState(memory, 0).state).toBe(AWAKE);
  });

  // wake() and wakeAll() only act on workers already BLOCKED. Any other reason to wake a worker
  // (shutdown, a control message) must therefore be part of the final check, or a worker that
  // blocks just after the wake sleeps through it. The stress test's shutdown relies on this.
  it('sees a wake that came before the worker blocked only through the final check', () => {
    const { memory, sleep } = setup();
    let stop = false;
    const idle = getSleepy(sleep, 0);
    stop = true;
    sleep.wakeAll(); // nobody is BLOCKED yet: a no-op
    expect(sleep.noWorkFound(idle, 0, LATER, () => stop)).toBe(SEARCH);
    expect(workerState(memory, 0).state).toBe(AWAKE);

    const late = getSleepy(sleep, 1);
    sleep.wakeAll();
    expect(sleep.noWorkFound(late, 1, LATER, nothingQueued)).toBe(PARK); // the wake above is lost
    expect(workerState(memory, 1).state).toBe(BLOCKED);
  });
});

const WORKERS = 4; // plus the producer: five threads on the CI machine's two cores
const JOBS = scaled(20_000);
const TIMEOUT_MS = scaled(30_000);
const QUIESCE_TIMEOUT_MS = 5_000;

describe(`Sleep protocol under load: 1 producer, ${WORKERS} workers`, () => {
  it(
    `runs each of ${JOBS} irregularly posted jobs exactly once and never sleeps through one`,
    async () => {
      const memory = allocatePoolMemory({ threads: WORKERS, slots: 64 });
      const words = new Int32Array(memory.buffer);
      const common: SleepTestData = {
        ...memory,
        control: sharedWords(Control.WORDS),
        executed: tallyBuffer(JOBS),
        claims: itemClaimsBuffer(JOBS),
        spinMicros: SPIN_MICROS,
        seed: 1,
      };
      const control = new Int32Array(common.control);
      const executed = new Int32Array(common.executed);
      const producer: ThreadSpec<ProducerData> = {
        script: new URL('./workers/sleep-producer.ts', import.meta.url),
        name: 'producer',
        data: { ...common, jobs: JOBS, maxBurst: 24, maxPauseMicros: 400, quiesceTimeoutMs: QUIESCE_TIMEOUT_MS },
      };
      const workers = Array.from(
        { length: WORKERS },
        (_, index): ThreadSpec<WorkerData> => ({
          script: new URL('./workers/sleep-worker.ts', import.meta.url),
          name: `worker ${index}`,
          data: { ...common, seed: index + 2, index, maxJobCost: 2_000 },
        }),
      );
      // The main thread plays the pool's part at shutdown, with its own view like the pool's.
      const sleep = new Sleep(words, memory.layout, SPIN_MICROS);
      const progress = () =>
        `${Atomics.load(control, Control.EXECUTED)} of ${JOBS} jobs ran; sleeping: ${sleep.sleepingCount()}; ` +
        `workers (state, searching): ${JSON.stringify(Array.from({ length: WORKERS }, (_, i) => workerState(memory, i)))}`;

      const [producerStats, ...workerStats] = (await withThreads([producer, ...workers], async (group) => {
        await withTimeout(
          Promise.race([group.results, until(() => Atomics.load(control, Control.EXECUTED) === JOBS)]),
          TIMEOUT_MS,
          () => `jobs stopped running (a lost wake-up?): ${progress()}`,
        );
        Atomics.store(control, Control.STOP, 1);
        sleep.wakeAll();
        return withTimeout(group.results, 10_000, () => `workers did not stop after STOP and wakeAll: ${progress()}`);
      })) as [ProducerStats, ...WorkerStats[]];
      logStats('sleep stress', { producerStats, workerStats });

      expect(tallyAnomalies(executed)).toEqual(NO_ANOMALIES);
      const table = itemClaimTable(common.claims);
      expect(injectorLevels(words, memory.layout, { backend: 'js', claims: table })[0].steal(itemClaim(table, WORKERS))).toBe(EMPTY);
      // Every registration as sleeping was undone by exactly one wake or cancel.
      expect(sleep.sleepingCount()).toBe(0);
      for (let i = 0; i < WORKERS; i++) expect(workerState(memory, i)).toEqual({ state: AWAKE, searching: 0 });
      // Guards against a vacuous pass: the workers must really have parked and been woken.
      expect(workerStats.reduce((sum, stats) => sum + stats.parks, 0)).toBeGreaterThan(0);
    },
    TIMEOUT_MS + 20_000,
  );
});

/** Resolves once `condition` holds, checking every few milliseconds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
