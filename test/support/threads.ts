/**
 * Main-thread side of the concurrency tests: starts TypeScript worker scripts on real threads,
 * releases them all at once, and collects what each reports.
 *
 * Workers start one by one and each spends a few hundred milliseconds compiling TypeScript, so
 * without a common start signal the first thread would finish its share before the last one
 * exists and nothing would run concurrently. Every worker therefore checks in, then blocks until
 * all of them have checked in (see `threadMain` in ./thread-main.ts).
 */
import { Worker } from 'node:worker_threads';
import { START_RELEASED } from './thread-main.js';

const bootstrap = new URL('./tsx-bootstrap.mjs', import.meta.url);

/** What `threadMain` finds in `workerData`. */
export interface ThreadWorkerData<D> {
  entry: string;
  /** One Int32 word, 0 until every thread has checked in. */
  start: SharedArrayBuffer;
  data: D;
}

export interface ThreadSpec<D = unknown> {
  /** The TypeScript worker script, resolved against the test file's `import.meta.url`. */
  script: URL;
  /** Shown in failure messages. */
  name: string;
  data: D;
}

export interface ThreadGroup {
  /** Resolves with every thread's result, in spec order; rejects on the first thread that fails. */
  readonly results: Promise<unknown[]>;
}

/**
 * Runs `specs` on worker threads and hands the running group to `body`. Whatever happens (a
 * failed assertion, a timeout, a thread that threw), every worker is terminated before this
 * returns, so a failing test never leaves spinning threads behind to starve the next one.
 */
export async function withThreads<T>(specs: ThreadSpec[], body: (group: ThreadGroup) => Promise<T>): Promise<T> {
  const start = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const startWords = new Int32Array(start);
  const workers = specs.map(
    (spec) =>
      new Worker(bootstrap, {
        name: spec.name,
        workerData: { entry: spec.script.href, start, data: spec.data } satisfies ThreadWorkerData<unknown>,
      }),
  );
  try {
    const outcomes = workers.map((worker, i) => outcomeOf(worker, specs[i].name));
    const checkedIn = Promise.all(outcomes.map((outcome) => outcome.checkedIn));
    // A thread that fails while starting (a compile error, say) must fail the test, not hang it.
    await Promise.race([checkedIn, Promise.all(outcomes.map((outcome) => outcome.result))]);
    Atomics.store(startWords, START_RELEASED, 1);
    Atomics.notify(startWords, START_RELEASED);
    const results = Promise.all(outcomes.map((outcome) => outcome.result));
    results.catch(() => {}); // `body` may never await it (it timed out first); the failure is reported there
    return await body({ results });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Runs the threads to completion within `timeoutMs` and returns their results. */
export function runThreads(specs: ThreadSpec[], timeoutMs: number, what: string): Promise<unknown[]> {
  return withThreads(specs, (group) => withTimeout(group.results, timeoutMs, () => what));
}

/**
 * Rejects when `promise` has not settled after `ms`. A lost wake-up or a lost queue entry shows up
 * as threads waiting forever; `describe` turns that into a message saying what was stuck.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${describe()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Outcome {
  checkedIn: Promise<void>;
  result: Promise<unknown>;
}

function outcomeOf(worker: Worker, name: string): Outcome {
  let checkedIn!: () => void;
  const outcome: Outcome = {
    checkedIn: new Promise<void>((resolve) => (checkedIn = resolve)),
    result: new Promise<unknown>((resolve, reject) => {
      let reported = false;
      worker.on('message', (message: { checkedIn?: true; result?: unknown }) => {
        if (message.checkedIn) {
          checkedIn();
          return;
        }
        reported = true;
        resolve(message.result);
      });
      worker.on('error', (error) => reject(new Error(`thread ${name} threw: ${error.message}`, { cause: error })));
      worker.on('exit', (code) => {
        if (!reported) reject(new Error(`thread ${name} exited with code ${code} before reporting a result`));
      });
    }),
  };
  outcome.result.catch(() => {});
  return outcome;
}
