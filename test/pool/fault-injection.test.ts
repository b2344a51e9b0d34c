// Fault injection: a mixed workload — plain calls, calls that may be retried, batches, nested joins,
// scopes opened by workers and by the main thread — runs while workers are terminated at random
// moments (terminate() stops a thread between any two of its operations). After every round: every
// promise settled; every call that succeeded has its correct result; every failure is a worker's
// crash; calls allowed to retry all succeeded; no spawned task ran twice, and the tasks of every
// scope that succeeded all ran; the slot table is whole again; and the pool still serves.
//
// CI runs a few rounds; `VISCOSE_FAULT_ROUNDS=200 npx vitest run test/pool/fault-injection.test.ts`
// runs a long one and logs its figures.
import { describe, expect, it } from 'vitest';
import { TaskError, ThreadPool, WorkerCrashedError } from 'viscose';
import type * as Faults from '../fixtures/faults.mjs';
import { Random } from '../support/random.js';
import { runtime } from '../support/runtime.js';
import { expectSlotTableWhole } from '../support/slot-table.js';

const faultsUrl = new URL('../fixtures/faults.mjs', import.meta.url);
const ROUNDS = Number(process.env.VISCOSE_FAULT_ROUNDS ?? 6);
const THREADS = 3;
const KILLS_PER_ROUND = 3;
/** More than the kills of a round: a call allowed to retry can always succeed. */
const RETRIES = KILLS_PER_ROUND + 2;
const SCOPES = 4;
const SPAWNS = 40;
const JOIN_SUM = { lo: 0, hi: 400_000, grain: 500 };

type Pool = ThreadPool<typeof Faults>;

interface Figures {
  rounds: number;
  kills: number;
  calls: number;
  succeeded: number;
  crashed: number;
  retriedCallsSucceeded: number;
}

/** What a call of the round must come back with, and whether a crash is an acceptable outcome. */
interface Expectation {
  label: string;
  promise: Promise<unknown>;
  check(value: unknown): void;
  mayCrash: boolean;
}

function isCrash(reason: unknown): boolean {
  if (reason instanceof WorkerCrashedError) return true;
  // A task that waited on forked work a dead worker held rethrows the crash it was given.
  return reason instanceof TaskError && (reason.cause as { name?: string } | undefined)?.name === 'WorkerCrashedError';
}

function roundWorkload(pool: Pool, counts: Int32Array, random: Random): Expectation[] {
  const calls: Expectation[] = [];
  const expectSquare = (x: number) => (value: unknown) => expect(value).toBe(x * x);
  for (let i = 0; i < 200; i++) {
    calls.push({ label: `run ${i}`, promise: pool.run('slowSquare', i, random.below(4)), check: expectSquare(i), mayCrash: true });
  }
  for (let i = 0; i < 100; i++) {
    calls.push({
      label: `retried run ${i}`,
      promise: pool.with({ retries: RETRIES }).run('slowSquare', i, 1),
      check: expectSquare(i),
      mayCrash: false,
    });
  }
  const items = Array.from({ length: 400 }, (_, i) => [i] as [number]);
  const squares = items.map(([i]) => i * i);
  for (let b = 0; b < 2; b++) {
    calls.push({
      label: `batch ${b}`,
      promise: pool.runBatch('square', items),
      check: (value) => expect(value).toEqual(squares),
      mayCrash: true,
    });
  }
  calls.push({
    label: 'retried batch',
    promise: pool.with({ retries: RETRIES }).runBatch('square', items),
    check: (value) => expect(value).toEqual(squares),
    mayCrash: false,
  });
  const { lo, hi, grain } = JOIN_SUM;
  for (let j = 0; j < 4; j++) {
    calls.push({
      label: `joinSum ${j}`,
      promise: pool.run('joinSum', lo, hi, grain),
      check: (value) => expect(value).toBe(((hi - 1) * hi) / 2 - ((lo - 1) * lo) / 2),
      mayCrash: true,
    });
  }
  for (let s = 0; s < SCOPES; s++) {
    const base = s * SPAWNS;
    calls.push({
      label: `worker scope ${s}`,
      promise: pool.run('scopeMarks', counts, base, SPAWNS, 0.5),
      check: () => expect([...counts.subarray(base, base + SPAWNS)]).toEqual(new Array(SPAWNS).fill(1)),
      mayCrash: true,
    });
  }
  const mainBase = SCOPES * SPAWNS;
  calls.push({
    label: 'main scope',
    promise: pool.scope((scope) => {
      for (let i = 0; i < SPAWNS; i++) scope.spawn('markOnce', counts, mainBase + i, 0.5);
    }),
    check: () => expect([...counts.subarray(mainBase, mainBase + SPAWNS)]).toEqual(new Array(SPAWNS).fill(1)),
    mayCrash: true,
  });
  return calls;
}

async function killAtRandom(pool: Pool, random: Random, settled: () => boolean): Promise<number> {
  let kills = 0;
  while (kills < KILLS_PER_ROUND && !settled()) {
    await new Promise((resolve) => setTimeout(resolve, 1 + random.below(25)));
    if (settled()) break;
    await pool.restartWorker(random.below(THREADS));
    kills++;
  }
  return kills;
}

/** Settles every call of the round, failing the test if any stays pending for a minute. */
async function settleAll(calls: Expectation[]): Promise<PromiseSettledResult<unknown>[]> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('a call of the round never settled')), 60_000);
  });
  try {
    return await Promise.race([Promise.allSettled(calls.map((call) => call.promise)), hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('fault injection', () => {
  it.runIf(runtime === 'deno')('refuses restartWorker on Deno, whose terminate() leaves the thread running', async () => {
    await using pool = await ThreadPool.create<typeof Faults>({ module: faultsUrl, threads: 1 });
    await expect(pool.restartWorker(0)).rejects.toThrow(/restartWorker is not available on Deno/);
    expect(await pool.run('square', 3)).toBe(9);
  });

  // Deno: see the test above.
  it.skipIf(runtime === 'deno')(
    `a mixed workload survives workers terminated at random moments (${ROUNDS} rounds)`,
    { timeout: 120_000 + ROUNDS * 20_000 },
    async () => {
      const reported: Error[] = [];
      const pool = await ThreadPool.create<typeof Faults>({
        module: faultsUrl,
        threads: THREADS,
        maxPendingTasks: 256,
        nestedTasksPerWorker: 64,
        onError: (error) => reported.push(error),
      });
      const random = new Random(Number(process.env.VISCOSE_FAULT_SEED ?? 20261129));
      const figures: Figures = { rounds: 0, kills: 0, calls: 0, succeeded: 0, crashed: 0, retriedCallsSucceeded: 0 };
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const counts = new Int32Array(new SharedArrayBuffer((SCOPES + 1) * SPAWNS * 4));
          const calls = roundWorkload(pool, counts, random);
          let done = false;
          const killer = killAtRandom(pool, random, () => done);
          const outcomes = await settleAll(calls);
          done = true;
          figures.kills += await killer;
          outcomes.forEach((outcome, i) => {
            const call = calls[i];
            figures.calls++;
            if (outcome.status === 'fulfilled') {
              figures.succeeded++;
              if (!call.mayCrash) figures.retriedCallsSucceeded++;
              call.check(outcome.value);
            } else {
              expect.soft(isCrash(outcome.reason), `${call.label} failed with ${String(outcome.reason)}`).toBe(true);
              expect.soft(call.mayCrash, `${call.label} was allowed ${RETRIES} retries`).toBe(true);
              figures.crashed++;
            }
          });
          // Whatever crashed, no spawned task ever ran twice.
          expect(Math.max(...counts)).toBeLessThanOrEqual(1);
          await expectSlotTableWhole(pool, THREADS);
          figures.rounds++;
        }
        // Still serving, fork-join included.
        const { lo, hi, grain } = JOIN_SUM;
        expect(await pool.run('joinSum', lo, hi, grain)).toBe(((hi - 1) * hi) / 2);
        expect(await pool.runBatch('square', [[3], [4]])).toEqual([9, 16]);
        console.log(`fault injection: ${JSON.stringify(figures)}`);
        expect(figures.kills).toBeGreaterThan(0);
        expect(figures.crashed).toBeGreaterThan(0);
        // Restarts are deliberate: nothing is reported as an unexpected crash.
        expect(reported).toEqual([]);
      } finally {
        await pool.close();
      }
    },
  );
});
