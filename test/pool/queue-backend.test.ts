// The deque implementation a pool uses (`queue`), and thread pinning (`pinThreads`), both of which
// go through the native addon built from native-queue/. The rest of the pool suites run once with
// each implementation (vitest.config.ts); the first test here shows which one a run is using.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, ThreadPool } from 'viscose';
import type * as Affinity from '../fixtures/affinity.mjs';
import type * as ForkJoin from '../fixtures/forkjoin.mjs';

const affinityUrl = new URL('../fixtures/affinity.mjs', import.meta.url);
const forkJoinUrl = new URL('../fixtures/forkjoin.mjs', import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs an ES module in a new Node.js process (its workers inherit no flags); resolves with its output. */
async function runScript(source: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const dir = scratchDirectory('script-');
  try {
    writeFileSync(join(dir, 'script.mjs'), source);
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'script.mjs')], { env: { ...process.env, ...env } });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A new directory inside the package (so that its scripts resolve the package's dependencies). */
function scratchDirectory(prefix: string): string {
  mkdirSync(join(root, 'test-results'), { recursive: true });
  return mkdtempSync(join(root, 'test-results', prefix));
}

function fibSequential(n: number): number {
  return n < 2 ? n : fibSequential(n - 1) + fibSequential(n - 2);
}

describe('queue', () => {
  it('defaults to VISCOSE_QUEUE, else the TypeScript deque', async () => {
    const pool = await ThreadPool.create<typeof Affinity>({ module: affinityUrl, threads: 1 });
    try {
      expect(pool.settings.queue).toBe(process.env.VISCOSE_QUEUE || 'js');
    } finally {
      await pool.close();
    }
  });

  // Calls from outside (injector), joins (own deque and steals) and batches on each implementation.
  it.each(['js', 'native'] as const)('runs calls, batches and joins with queue: %s', async (queue) => {
    const pool = await ThreadPool.create<typeof ForkJoin>({ module: forkJoinUrl, threads: 3, queue });
    try {
      expect(pool.settings.queue).toBe(queue);
      const fibs = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.run('fib', 10 + (i % 12), 6)));
      expect(fibs).toEqual(Array.from({ length: 40 }, (_, i) => fibSequential(10 + (i % 12))));
      const batch = Array.from({ length: 500 }, (_, i): [number, number] => [i % 15, 20]);
      expect(await pool.runBatch('fib', batch)).toEqual(batch.map(([n]) => fibSequential(n)));
      // fib(25) forks thousands of joins: idle workers steal some of them. One run can be over
      // before a parked worker is woken (seen on Bun), so it is run until a steal shows, up to a
      // bound that a queue whose steals never succeed would exhaust.
      const stealsSoFar = async () => (await pool.snapshot()).reduce((sum, worker) => sum + worker.steals, 0);
      const before = await stealsSoFar();
      let steals = 0;
      for (let round = 0; round < 20 && steals === 0; round++) {
        expect(await pool.run('fib', 25, 8)).toBe(fibSequential(25));
        steals = (await stealsSoFar()) - before;
      }
      expect(steals).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it('rejects an unknown implementation, from the option or the environment', async () => {
    await expect(ThreadPool.create({ module: affinityUrl, queue: 'wasm' as 'js' })).rejects.toThrow(InvalidOptionError);
    await expect(ThreadPool.create({ module: affinityUrl, queue: 'wasm' as 'js' })).rejects.toThrow(/queue: expected "js" or "native"/);
    const saved = process.env.VISCOSE_QUEUE;
    process.env.VISCOSE_QUEUE = 'rust';
    try {
      await expect(ThreadPool.create({ module: affinityUrl })).rejects.toThrow(/VISCOSE_QUEUE: expected "js" or "native", got "rust"/);
    } finally {
      if (saved === undefined) delete process.env.VISCOSE_QUEUE;
      else process.env.VISCOSE_QUEUE = saved;
    }
  });

  // Stopping workers with calls in flight: a native-queue worker may be on its way back from a
  // native call, which cannot hand a value to a terminating thread (that aborted the process), and
  // completions published just before terminate() reach a dispatcher that has abandoned their calls
  // (that threw). Either must end the process normally.
  it.each([
    { queue: 'js', how: 'terminate' },
    { queue: 'native', how: 'terminate' },
    { queue: 'native', how: 'exit' },
  ])('a process whose workers are stopped mid-work ends normally (queue: $queue, $how)', async ({ queue, how }) => {
    const script = `
      const { ThreadPool } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
      const pool = await ThreadPool.create({ module: ${JSON.stringify(forkJoinUrl.href)}, threads: 2, queue: '${queue}' });
      for (let i = 0; i < 200; i++) await pool.run('fib', 12, 4);
      const calls = Array.from({ length: 300 }, () => pool.run('fib', 14, 4));
      calls.forEach((call) => call.catch(() => {}));
      // Stop as soon as the first call settled: the others are finishing on the workers right now.
      await Promise.race(calls);
      if (${JSON.stringify(how)} === 'exit') process.exit(0);
      await pool.terminate();
      console.log('terminated');`;
    // Before the fixes, the abort hit about one run in three, the throw five runs in six.
    for (let run = 0; run < 8; run++) expect((await runScript(script)).trim()).toBe(how === 'exit' ? '' : 'terminated');
  });

  // A copy of the package without the addon (its dist/ in a directory with no native-queue/).
  it('without a built addon, fails at creation and says how to build it', async () => {
    const scratch = scratchDirectory('no-addon-');
    try {
      cpSync(join(root, 'dist'), join(scratch, 'dist'), { recursive: true });
      const script = `
        const { ThreadPool } = await import(${JSON.stringify(join(scratch, 'dist', 'index.js'))});
        for (const options of [{ queue: 'native' }, { pinThreads: true }]) {
          try {
            await ThreadPool.create({ module: ${JSON.stringify(affinityUrl.href)}, threads: 1, ...options });
            console.log('created');
          } catch (error) {
            console.log(error.name + ': ' + error.message);
          }
        }`;
      const lines = (await runScript(script, { VISCOSE_QUEUE: '' })).trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(
        /^InvalidOptionError: invalid option queue: the native queue needs the native addon: there is no prebuilt addon for \S+ and none built; build it from the project with `npm install --no-save node-addon-api node-gyp && npx node-gyp rebuild --directory node_modules\/viscose\/native-queue`/,
      );
      expect(lines[1]).toMatch(
        /^InvalidOptionError: invalid option pinThreads: thread pinning needs the native addon: there is no prebuilt addon for \S+ and none built/,
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

describe('pinThreads', () => {
  const linux = process.platform === 'linux';

  it.runIf(linux)('pins worker i to the i-th CPU the process may use', async () => {
    const unpinned = await ThreadPool.create<typeof Affinity>({ module: affinityUrl, threads: 2 });
    let everyCpu: number[];
    try {
      expect(unpinned.settings.pinCpus).toBeUndefined();
      everyCpu = (await unpinned.broadcast('allowedCpus'))[0].cpus;
    } finally {
      await unpinned.close();
    }
    const threads = everyCpu.length + 1; // one more than CPUs: the assignment wraps around
    const pool = await ThreadPool.create<typeof Affinity>({ module: affinityUrl, threads, pinThreads: true });
    try {
      const expected = Array.from({ length: threads }, (_, i) => everyCpu[i % everyCpu.length]);
      expect(pool.settings.pinCpus).toEqual(expected);
      const reports = await pool.broadcast('allowedCpus');
      expect(reports.map((report) => report.worker)).toEqual(Array.from({ length: threads }, (_, i) => i));
      expect(reports.map((report) => report.cpus)).toEqual(expected.map((cpu) => [cpu]));
      expect(await pool.run('sumTo', 1000)).toBe(500500);
    } finally {
      await pool.close();
    }
  });

  it('is off by default and rejects what is not a boolean', async () => {
    await expect(ThreadPool.create({ module: affinityUrl, pinThreads: 'yes' as unknown as boolean })).rejects.toThrow(
      /invalid option pinThreads: expected true or false/,
    );
  });
});
