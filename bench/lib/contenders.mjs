// The contender registry: each pool library under test, how it is constructed, and how a workload
// calls it. Libraries are imported only when opened, so that a child process loads just the one it
// measures. Adding a peer means adding an entry here (and a worker file if it needs one).
import { describeOptions } from './describe-options.mjs';

const VISCOSE_TASKS = new URL('../workers/viscose-tasks.mjs', import.meta.url);
const PISCINA_WORKER = new URL('../workers/piscina-trivial.mjs', import.meta.url);

/**
 * Each entry:
 * - `packageName`: whose package.json version the environment record reports;
 * - `baseline`: the contender every other one is divided by in the ratio rows;
 * - `lacks`: capabilities a workload may need (`needs`) that this library does not have, with why;
 * - `open(threads)`: starts a pool and resolves with an adapter:
 *   `{ task(name) → { run(arg), runBatch?(args) }, close(), configuration }`.
 */
export const contenders = {
  viscose: {
    packageName: 'viscose',
    baseline: false,
    lacks: {},
    async open(threads) {
      const { ThreadPool } = await import('viscose');
      const pool = await ThreadPool.create({ module: VISCOSE_TASKS, threads });
      return {
        task: (name) => ({
          run: (arg) => pool.run(name, arg),
          // runBatch takes one argument list per call; building them is part of using the call.
          runBatch: (args) => pool.runBatch(name, args.map((arg) => [arg])),
        }),
        close: () => pool.close(),
        configuration: {
          construction: `await ThreadPool.create({ module: bench/workers/viscose-tasks.mjs, threads: ${threads} })`,
          calls: 'pool.run(name, arg); pool.runBatch(name, args.map((arg) => [arg]))',
          // The settings in effect, every default filled in: what actually ran.
          resolved: describeOptions(pool.settings, ['env']),
        },
      };
    },
  },
  piscina: {
    packageName: 'piscina',
    baseline: true,
    lacks: { batch: 'piscina has no batch call' },
    async open(threads) {
      const { Piscina } = await import('piscina');
      const pool = new Piscina({ filename: PISCINA_WORKER.href, minThreads: threads, maxThreads: threads });
      return {
        task(name) {
          // The worker file's default export is the one task piscina is given.
          if (name !== 'trivial') throw new Error(`piscina's worker file has no task "${name}"`);
          return { run: (arg) => pool.run(arg) };
        },
        close: () => pool.close(),
        configuration: {
          construction: `new Piscina({ filename: bench/workers/piscina-trivial.mjs, minThreads: ${threads}, maxThreads: ${threads} })`,
          calls: 'piscina.run(arg)',
          // `options.taskQueue` shows the default from piscina's option table, but the pool only
          // uses a taskQueue passed by the caller and otherwise builds a FixedQueue.
          resolved: { ...describeOptions(pool.options, ['taskQueue', 'env']), taskQueue: '[FixedQueue] (default)' },
        },
      };
    },
  },
};

/** Contender names in registry order. */
export const contenderNames = Object.keys(contenders);

/** The name of the contender that ratios divide by. */
export const baselineName = contenderNames.find((name) => contenders[name].baseline);
