// Per-worker event counters (tasks run, steals, steal attempts, injector takes, parks) were Int32
// words incremented with ++: after 2^31 events on one worker — hours of small tasks — statistics()
// and snapshot() read them negative. They are float64s now, exact to 2^53.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ThreadPool } from 'viscose';
import { type Layout, WorkerBlock, workerWord } from '../../../src/shm/layout.js';
import { WorkerCounter, WorkerCounters } from '../../../src/shm/worker-counters.js';
import { allocatePoolMemory } from '../../support/shared.js';
import type * as Tasks from '../../fixtures/tasks.mjs';

/** The float64 cell of a counter: the COUNTERS line of the worker's block, as the layout places it. */
function cell(layout: Layout, worker: number, counter: number): number {
  return workerWord(layout, worker, WorkerBlock.COUNTERS) / 2 + counter;
}

describe('worker event counters', () => {
  it('count past 2^31 and 2^32 without wrapping', () => {
    const { buffer, layout } = allocatePoolMemory({ threads: 2 });
    const words = new Int32Array(buffer);
    const f64 = new Float64Array(buffer);
    const counters = new WorkerCounters(words, layout, 1);
    for (const start of [2 ** 31 - 2, 2 ** 32 - 2]) {
      for (const counter of Object.values(WorkerCounter)) {
        f64[cell(layout, 1, counter)] = start;
        for (let i = 0; i < 4; i++) counters.increment(counter);
        expect(counters.read(counter)).toBe(start + 4);
      }
    }
    // Worker 0's counters are not worker 1's.
    expect(new WorkerCounters(words, layout, 0).read(WorkerCounter.TASKS_RUN)).toBe(0);
  });

  it('statistics() and snapshot() report counts across the 2^31 boundary exactly', async () => {
    const pool = await ThreadPool.create<typeof Tasks>({ module: new URL('../../fixtures/tasks.mjs', import.meta.url), threads: 1 });
    try {
      // The pool's shared memory, reached into because no public call writes a counter.
      const { views, layout } = (pool as unknown as { plane: { views: { words: Int32Array }; layout: Layout } }).plane;
      const f64 = new Float64Array(views.words.buffer as SharedArrayBuffer);
      await pool.run('add', 1, 1);
      // The worker is idle now and writes nothing; move its tasks-run counter to just below 2^31.
      f64[cell(layout, 0, WorkerCounter.TASKS_RUN)] = 2 ** 31 - 3;
      pool.resetStatistics();
      for (let i = 0; i < 10; i++) await pool.run('add', i, 1);
      expect(pool.statistics().workers[0].tasksRun).toBe(10);
      expect((await pool.snapshot())[0].tasksRun).toBe(2 ** 31 + 7);
    } finally {
      await pool.close();
    }
  });
});

describe('scope part counts', () => {
  // A scope counts its unfinished parts in 21 bits, one per slot at most. The options let the slot
  // table grow past that (2^20 main-thread slots plus threads × 16,384 nested ones), where a scope
  // holding every slot would have wrapped its count. The whole table is now capped.
  it('a slot table larger than 2^20 slots is refused, naming the options', async () => {
    const error = await ThreadPool.create({
      module: new URL('../../fixtures/tasks.mjs', import.meta.url),
      threads: 2,
      maxPendingTasks: 2 ** 20,
      nestedTasksPerWorker: 2 ** 14,
    }).then(
      async (pool) => {
        await pool.terminate();
        return undefined;
      },
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).message).toMatch(/maxPendingTasks \+ threads × nestedTasksPerWorker must not exceed 1048576/);
  });
});
