// The contender registry: each pool library under test, the two references (bare worker_threads,
// the main thread alone), how each is constructed, and how a workload calls it. Libraries are
// imported only when opened, so that a child process loads just the one it measures. Adding a
// peer means adding an entry here and a worker file in ../workers/.
//
// Every pool gets exactly `threads` workers (minimum = maximum) and otherwise its defaults, as its
// documentation recommends for a fixed-size pool; `configuration.resolved` records what ran.
import { Worker } from 'node:worker_threads';
import { describeOptions } from './describe-options.mjs';
import { cpu, trivial } from './tasks.mjs';

const worker = (file) => new URL(`../workers/${file}`, import.meta.url);
const INLINE_TASKS = { cpu, trivial };
const NO_PROCESSOR = 'no request processor (workload A is what every pool offers instead)';
const NOT_CALLS = 'the ideal split is a ceiling for CPU-bound work, not a way to make calls';
const NO_JOIN = 'no nested tasks (join)';

/** viscose with one deque implementation (`queue`, see native-queue/README.md). */
function viscose(queue) {
  return {
    packageName: 'viscose',
    baseline: false,
    lacks: {},
    async open(threads) {
      const { ParallelProcessor, ThreadPool } = await import('viscose');
      const pool = await ThreadPool.create({ module: worker('viscose-tasks.mjs'), threads, queue });
      // Workload H's processor, created on first use and kept, as an application keeps the one for
      // its request stream: the warm-up runs on the very workers that are then measured.
      let processor;
      return {
        task: (name) => ({
          run: (...args) => pool.run(name, ...args),
          // runBatch takes one argument list per call; building them is part of using the call.
          runBatch: (args) =>
            pool.runBatch(
              name,
              args.map((arg) => [arg]),
            ),
        }),
        // Workload H: a ParallelProcessor with a pool of its own (one handler for the whole run).
        processor: (handler) =>
          (processor ??= ParallelProcessor.create({ module: worker('viscose-tasks.mjs'), handler, threads, pool: { queue } })),
        close: async () => {
          if (processor !== undefined) await (await processor).close();
          await pool.close();
        },
        configuration: {
          construction: `await ThreadPool.create({ module: bench/workers/viscose-tasks.mjs, threads: ${threads}, queue: '${queue}' })`,
          calls: 'pool.run(name, ...args); pool.runBatch(name, args.map((arg) => [arg]))',
          // The settings in effect, every default filled in: what actually ran.
          resolved: describeOptions(pool.settings, ['env']),
        },
      };
    },
  };
}

/**
 * Each entry:
 * - `packageName`: whose package.json version the environment record reports (none for references);
 * - `baseline`: the contender every other one is divided by in the ratio rows;
 * - `lacks`: capabilities a workload may need (`needs`) that this contender does not have, with why;
 * - `open(threads)`: starts a pool and resolves with an adapter:
 *   `{ task(name) → { run(arg), runBatch?(args) }, close(), configuration }` (a contender with
 *   `join` takes several arguments: `run(...args)`);
 * - `variant`: a second configuration of a contender, measured by its own benchmark
 *   (bench/native/run.mjs), not in the comparison of peers.
 */
export const contenders = {
  viscose: viscose('js'),
  'viscose-native': { ...viscose('native'), variant: true },
  piscina: {
    packageName: 'piscina',
    baseline: true,
    lacks: { batch: 'piscina has no batch call', processor: NO_PROCESSOR, join: NO_JOIN },
    async open(threads) {
      const { Piscina } = await import('piscina');
      const pool = new Piscina({ filename: worker('piscina-tasks.mjs').href, minThreads: threads, maxThreads: threads });
      return {
        task: (name) => ({ run: (arg) => pool.run(arg, { name }) }),
        close: () => pool.close(),
        configuration: {
          construction: `new Piscina({ filename: bench/workers/piscina-tasks.mjs, minThreads: ${threads}, maxThreads: ${threads} })`,
          calls: 'piscina.run(arg, { name })',
          // `options.taskQueue` shows the default from piscina's option table, but the pool only
          // uses a taskQueue passed by the caller and otherwise builds a FixedQueue.
          resolved: { ...describeOptions(pool.options, ['taskQueue', 'env']), taskQueue: '[FixedQueue] (default)' },
        },
      };
    },
  },
  tinypool: {
    packageName: 'tinypool',
    baseline: false,
    lacks: { batch: 'tinypool has no batch call', processor: NO_PROCESSOR, join: NO_JOIN },
    async open(threads) {
      const { Tinypool } = await import('tinypool');
      const pool = new Tinypool({ filename: worker('tinypool-tasks.mjs').href, minThreads: threads, maxThreads: threads });
      return {
        task: (name) => ({ run: (arg) => pool.run(arg, { name }) }),
        close: () => pool.destroy(),
        configuration: {
          construction: `new Tinypool({ filename: bench/workers/tinypool-tasks.mjs, minThreads: ${threads}, maxThreads: ${threads} })`,
          calls: 'pool.run(arg, { name }); pool.destroy() to close',
          resolved: describeOptions(pool.options, ['env']),
        },
      };
    },
  },
  workerpool: {
    packageName: 'workerpool',
    baseline: false,
    lacks: { batch: 'workerpool has no batch call', processor: NO_PROCESSOR, join: NO_JOIN },
    async open(threads) {
      const { default: workerpool } = await import('workerpool');
      const options = { minWorkers: threads, maxWorkers: threads, workerType: 'thread' };
      const pool = workerpool.pool(worker('workerpool-tasks.mjs').pathname, options);
      return {
        task: (name) => ({ run: (arg) => pool.exec(name, [arg]) }),
        close: () => pool.terminate(),
        configuration: {
          construction: `workerpool.pool(bench/workers/workerpool-tasks.mjs, ${JSON.stringify(options)})`,
          calls: 'pool.exec(name, [arg]); pool.terminate() to close (it waits for running tasks)',
          resolved: options,
        },
      };
    },
  },
  poolifier: {
    packageName: 'poolifier',
    baseline: false,
    lacks: { batch: 'poolifier has no batch call', processor: NO_PROCESSOR, join: NO_JOIN },
    async open(threads) {
      const { FixedThreadPool } = await import('poolifier');
      const pool = new FixedThreadPool(threads, worker('poolifier-tasks.mjs').pathname);
      await waitUntilReady(pool);
      return {
        task: (name) => ({ run: (arg) => pool.execute(arg, name) }),
        close: () => pool.destroy(),
        configuration: {
          construction: `new FixedThreadPool(${threads}, bench/workers/poolifier-tasks.mjs)`,
          calls: 'pool.execute(arg, name)',
          resolved: describeOptions(pool.opts ?? {}, ['env']),
        },
      };
    },
  },
  'bare worker_threads': {
    packageName: undefined,
    baseline: false,
    lacks: { batch: 'a bare Worker has no batch call', processor: NO_PROCESSOR, join: NO_JOIN },
    async open(threads) {
      const workers = Array.from({ length: threads }, () => new Worker(worker('bare-tasks.mjs')));
      const pending = new Map();
      for (const thread of workers) {
        thread.on('message', ({ id, result }) => {
          pending.get(id)(result);
          pending.delete(id);
        });
      }
      let nextId = 0;
      return {
        task: (name) => ({
          // Static round robin at submit time: what a pool without a queue of its own does.
          run: (arg) =>
            new Promise((resolve) => {
              const id = nextId++;
              pending.set(id, resolve);
              workers[id % threads].postMessage({ id, name, arg });
            }),
        }),
        close: () => Promise.all(workers.map((thread) => thread.terminate())),
        configuration: {
          construction: `${threads} × new Worker(bench/workers/bare-tasks.mjs)`,
          calls: 'postMessage({ id, name, arg }) to worker id % threads; a Map of pending promises',
          resolved: { threads },
        },
      };
    },
  },
  // Not a pool: the ceiling of C and D on this machine. Each thread gets, in one message, a share of
  // the tasks whose total cost equals the others' as nearly as possible (the costs are known in
  // advance, which no pool knows), and runs it with no further communication.
  'ideal split': {
    packageName: undefined,
    baseline: false,
    lacks: { calls: NOT_CALLS, batch: NOT_CALLS, processor: NO_PROCESSOR, join: NO_JOIN },
    async open(threads) {
      const workers = Array.from({ length: threads }, () => new Worker(worker('split-tasks.mjs')));
      let nextId = 0;
      const runShare = (thread, args) =>
        new Promise((resolve) => {
          const id = nextId++;
          const answer = (message) => {
            if (message.id !== id) return;
            thread.off('message', answer);
            resolve(message.results);
          };
          thread.on('message', answer);
          thread.postMessage({ id, args });
        });
      return {
        task: (name) => ({
          async runAll(args) {
            if (name !== 'cpu') throw new Error(`the ideal split runs cpu tasks only, not ${name}`);
            const shares = balancedShares(args, threads);
            const answers = await Promise.all(
              shares.map((share, i) =>
                runShare(
                  workers[i],
                  share.map((index) => args[index]),
                ),
              ),
            );
            const results = new Array(args.length);
            for (const [i, share] of shares.entries()) for (const [k, index] of share.entries()) results[index] = answers[i][k];
            return results;
          },
        }),
        close: () => Promise.all(workers.map((thread) => thread.terminate())),
        configuration: {
          construction: `${threads} × new Worker(bench/workers/split-tasks.mjs)`,
          calls: 'one postMessage per thread with its share (longest tasks first, each to the least loaded thread), one answer back',
          resolved: { threads },
        },
      };
    },
  },
  'main thread': {
    packageName: undefined,
    baseline: false,
    lacks: { parallel: 'the main thread alone is the sequential reference itself', processor: NO_PROCESSOR, join: NO_JOIN },
    async open() {
      return {
        task: (name) => ({
          run: (arg) => Promise.resolve(INLINE_TASKS[name](arg)),
          runBatch: (args) => Promise.resolve(args.map(INLINE_TASKS[name])),
        }),
        close: () => Promise.resolve(),
        configuration: {
          construction: 'none: the task function called on the main thread',
          calls: 'Promise.resolve(task(arg)); args.map(task) for a batch',
          resolved: {},
        },
      };
    },
  },
};

/**
 * Splits the indices of `args` (cpu requests, cost `n`) into `count` shares of nearly equal total
 * cost: longest first, each to the share with the least cost so far. For workload D's 200 tasks
 * this gives two shares of exactly 290 units.
 */
function balancedShares(args, count) {
  const shares = Array.from({ length: count }, () => ({ cost: 0, indices: [] }));
  const order = args.map((_, index) => index).sort((a, b) => args[b].n - args[a].n);
  for (const index of order) {
    const lightest = shares.reduce((least, share) => (share.cost < least.cost ? share : least));
    lightest.cost += args[index].n;
    lightest.indices.push(index);
  }
  return shares.map((share) => share.indices);
}

/** poolifier starts its workers asynchronously and says so with an event. */
function waitUntilReady(pool) {
  if (pool.info?.ready) return Promise.resolve();
  return new Promise((resolve) => pool.emitter.once('ready', resolve));
}

/** The names of the contenders of the peers' comparison, in registry order (variants left out). */
export const contenderNames = Object.keys(contenders).filter((name) => !contenders[name].variant);

/** The name of the contender that ratios divide by. */
export const baselineName = contenderNames.find((name) => contenders[name].baseline);
