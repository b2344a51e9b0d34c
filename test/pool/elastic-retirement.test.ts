// An elastic pool's idle workers retire (idleTimeout) down to minThreads, never while they own
// work, and the pool grows again into the indices they freed; calls, broadcasts, crashes and
// close() go on through it. Conditions are waited for; nothing here asserts how fast.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ThreadPool, type WorkerExited } from 'viscose';
import type * as Elastic from '../fixtures/elastic.mjs';
import { waitFor } from '../support/wait-for.js';

const elasticUrl = new URL('../fixtures/elastic.mjs', import.meta.url);

function sharedWords(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
}

interface Watched {
  pool: ThreadPool<typeof Elastic>;
  exits: WorkerExited[];
  created: number[];
  errors: Error[];
}

async function elastic(options: { minThreads: number; maxThreads: number; idleTimeout: number }): Promise<Watched> {
  const errors: Error[] = [];
  const pool = await ThreadPool.create<typeof Elastic>({ module: elasticUrl, ...options, onError: (error) => errors.push(error) });
  const exits: WorkerExited[] = [];
  const created: number[] = [];
  pool.on('workerExit', (worker) => exits.push(worker));
  pool.on('workerCreate', (worker) => created.push(worker.index));
  return { pool, exits, created, errors };
}

/** Holds `count` workers busy until the returned release is called; resolves once they all run. */
async function holdWorkers(pool: ThreadPool<typeof Elastic>, count: number): Promise<{ release: () => Promise<unknown[]> }> {
  const counter = sharedWords(1);
  const flag = sharedWords(1);
  const calls = Array.from({ length: count }, () => pool.run('holdCounted', counter, flag));
  await waitFor(() => Atomics.load(counter, 0) === count);
  return {
    release: () => {
      Atomics.store(flag, 0, 1);
      return Promise.all(calls);
    },
  };
}

const retired = (exits: WorkerExited[]) => exits.filter((exit) => exit.why === 'retired');

describe('retirement', () => {
  it('shrinks back to minThreads once idle, and grows again into the freed indices', async () => {
    const { pool, exits, created, errors } = await elastic({ minThreads: 1, maxThreads: 3, idleTimeout: 20 });
    try {
      for (let cycle = 0; cycle < 3; cycle++) {
        const held = await holdWorkers(pool, 3);
        expect(pool.threads).toBe(3);
        expect(new Set(await held.release())).toEqual(new Set([0, 1, 2]));
        await waitFor(() => pool.threads === 1);
        expect(retired(exits)).toHaveLength(2 * (cycle + 1));
        const [left] = await pool.ping();
        expect(pool.statistics().workers.map((worker) => worker.index)).toEqual([left]);
        expect(await pool.broadcast('countRun', sharedWords(1), 0)).toEqual([left]);
        // A retired index has no worker to restart.
        const gone = retired(exits).at(-1)!.index;
        await expect(pool.restartWorker(gone)).rejects.toBeInstanceOf(InvalidOptionError);
      }
      // Every retirement was an exit with code 0, each index reused by a later start.
      expect(retired(exits).every((exit) => exit.exitCode === 0)).toBe(true);
      expect(created.length).toBe(1 + 2 * 3);
      expect(errors).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('runs every call and every broadcast part exactly once across grow and shrink cycles', async () => {
    const { pool, errors } = await elastic({ minThreads: 1, maxThreads: 4, idleTimeout: 0 });
    const cycles = 12;
    const perCycle = 300;
    const runs = sharedWords(cycles * perCycle);
    const parts = sharedWords(cycles);
    try {
      for (let cycle = 0; cycle < cycles; cycle++) {
        const calls = Array.from({ length: perCycle }, (_, i) =>
          i % 3 === 0
            ? pool.run('spinFor', 0.2).then(() => Atomics.add(runs, cycle * perCycle + i, 1))
            : pool.run('countRun', runs, cycle * perCycle + i),
        );
        // Broadcasts race the workers that grow and retire: one part per worker there is.
        const reached = await pool.broadcast('countRun', parts, cycle);
        await Promise.all(calls);
        expect(Atomics.load(parts, cycle)).toBe(reached.length);
        expect(new Set(reached).size).toBe(reached.length);
        // Let the pool shrink now and then, so that the next cycle grows again.
        if (cycle % 3 === 2) await waitFor(() => pool.threads === 1);
      }
      expect(Array.from(runs).every((count) => count === 1)).toBe(true);
      expect(errors).toEqual([]);
      expect(pool.statistics().slots.main).toMatchObject({ queued: 0, running: 0 });
    } finally {
      await pool.close();
    }
  });

  it('keeps a worker whose spawned task still runs elsewhere, and lets it retire once that finished', async () => {
    const { pool, exits } = await elastic({ minThreads: 1, maxThreads: 2, idleTimeout: 10 });
    const counter = sharedWords(1);
    const flag = sharedWords(1);
    let spawner: number | undefined;
    try {
      const scope = pool.scope(async (scope) => {
        scope.spawn('spawnHeld', counter, flag);
      });
      await waitFor(() => Atomics.load(counter, 0) === 1);
      // The spawner is idle now, one slot of its region in use: it outlives many idle timeouts.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(retired(exits)).toEqual([]);
      expect(pool.threads).toBe(2);
      Atomics.store(flag, 0, 1);
      await scope;
      await waitFor(() => pool.threads === 1);
      spawner = retired(exits)[0]?.index;
      expect(spawner).toBeDefined();
      expect(retired(exits)).toHaveLength(1);
    } finally {
      Atomics.store(flag, 0, 1);
      await pool.close();
    }
  });

  it('keeps a worker inside a task that forked, whose half another worker holds', async () => {
    const { pool, exits } = await elastic({ minThreads: 1, maxThreads: 2, idleTimeout: 0 });
    const counter = sharedWords(1);
    const flag = sharedWords(1);
    try {
      const call = pool.run('forkAndHold', counter, flag);
      await waitFor(() => Atomics.load(counter, 0) === 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(retired(exits)).toEqual([]);
      Atomics.store(flag, 0, 1);
      expect(new Set(await call)).toEqual(new Set([0, 1]));
      await waitFor(() => pool.threads === 1);
    } finally {
      Atomics.store(flag, 0, 1);
      await pool.close();
    }
  });

  it('parks a worker kept at minThreads as long as any idle worker, past its idle timeout', async () => {
    const { pool } = await elastic({ minThreads: 1, maxThreads: 2, idleTimeout: 0 });
    try {
      await (await holdWorkers(pool, 2)).release();
      await waitFor(() => pool.threads === 1);
      const parks = () => pool.statistics().workers.reduce((sum, worker) => sum + worker.parks, 0);
      const before = parks();
      await new Promise((resolve) => setTimeout(resolve, 500));
      // An idle worker gives its event loop a turn every 100 ms; one that looked at retiring after
      // every millisecond would park hundreds of times here.
      expect(parks() - before).toBeLessThan(50);
    } finally {
      await pool.close();
    }
  });

  it('counts the time an index had no worker as idle, not busy', async () => {
    const { pool } = await elastic({ minThreads: 1, maxThreads: 2, idleTimeout: Infinity });
    try {
      pool.resetStatistics();
      await new Promise((resolve) => setTimeout(resolve, 600));
      // Index 1 starts now, 600 ms into the interval, and works only while held (and starting).
      await (await holdWorkers(pool, 2)).release();
      const { intervalMs, workers } = pool.statistics();
      const grown = workers.find((worker) => worker.index === 1)!;
      expect(grown.busyMs).toBeLessThan(intervalMs - 500);
    } finally {
      await pool.close();
    }
  });

  it('never retires with idleTimeout Infinity, and retires at the first idle turn with 0', async () => {
    const never = await elastic({ minThreads: 1, maxThreads: 2, idleTimeout: Infinity });
    const soon = await elastic({ minThreads: 1, maxThreads: 2, idleTimeout: 0 });
    try {
      await (await holdWorkers(never.pool, 2)).release();
      await (await holdWorkers(soon.pool, 2)).release();
      await waitFor(() => soon.pool.threads === 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(never.pool.threads).toBe(2);
      expect(retired(never.exits)).toEqual([]);
      expect(retired(soon.exits)).toHaveLength(1);
    } finally {
      await Promise.all([never.pool.close(), soon.pool.close()]);
    }
  });

  it('replaces a grown worker that crashes, which later retires like any other', async () => {
    const { pool, exits, errors } = await elastic({ minThreads: 1, maxThreads: 2, idleTimeout: 20 });
    try {
      const held = await holdWorkers(pool, 2);
      const busy = await held.release();
      expect(new Set(busy)).toEqual(new Set([0, 1]));
      await expect(pool.run('crash')).rejects.toThrow(/crashed/);
      await waitFor(() => exits.some((exit) => exit.why === 'crashed'));
      await waitFor(() => pool.threads === 1 && retired(exits).length >= 1);
      expect(errors).toEqual([]);
      expect(await pool.ping()).toContain(await pool.run('countRun', sharedWords(1), 0));
    } finally {
      await pool.close();
    }
  });

  it('keeps minThreads when a grown worker failed to start: the one left never retires', async () => {
    const errors: Error[] = [];
    const pool = await ThreadPool.create<typeof Elastic>({
      module: elasticUrl,
      minThreads: 1,
      maxThreads: 2,
      idleTimeout: 0,
      startHandler: 'startOnlyFirst',
      onError: (error) => errors.push(error),
    });
    const exits: WorkerExited[] = [];
    pool.on('workerExit', (worker) => exits.push(worker));
    try {
      // The one worker is held while a call waits: the pool grows, and its new worker dies starting.
      const counter = sharedWords(1);
      const flag = sharedWords(1);
      const holding = pool.run('holdCounted', counter, flag);
      await waitFor(() => Atomics.load(counter, 0) === 1);
      const waiting = pool.run('countRun', sharedWords(1), 0);
      await waitFor(() => errors.length === 1);
      expect(errors[0].message).toMatch(/worker 1 is not allowed to start/);
      Atomics.store(flag, 0, 1);
      expect([await holding, await waiting]).toEqual([0, 0]);
      // Idle with idleTimeout 0: it would retire at once if the dead worker still counted as present.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(retired(exits)).toEqual([]);
      expect(await pool.run('countRun', sharedWords(1), 0)).toBe(0);
      expect(retired(exits)).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('closes while workers retire and start', async () => {
    for (let round = 0; round < 6; round++) {
      const { pool, errors } = await elastic({ minThreads: 1, maxThreads: 3, idleTimeout: 0 });
      const held = await holdWorkers(pool, 2);
      await held.release();
      // Retirements are under way, or done, and one more burst may be growing the pool again.
      if (round % 2 === 1) void pool.run('spinFor', 1).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, round));
      await pool.close();
      expect(errors).toEqual([]);
    }
  });

  it('refuses idleTimeout on a fixed-size pool, and one that is not a duration', async () => {
    for (const options of [
      { threads: 2, idleTimeout: 100 },
      { maxThreads: 2, idleTimeout: -1 },
      { maxThreads: 2, idleTimeout: '5' },
    ]) {
      const error = await ThreadPool.create({ module: elasticUrl, ...(options as object) }).then(
        () => expect.fail('created'),
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe('idleTimeout');
    }
  });
});
