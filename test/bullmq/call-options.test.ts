// viscose/bullmq call options against a real Redis: priorities, cancellation, retries, and a client
// that missed its jobs' events. A node taking one job at a time on one thread makes the order in
// which jobs run the order in which BullMQ handed them out.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AbortError, InvalidOptionError, TaskError } from 'viscose';
import { ClusterClient, ClusterClientClosedError } from 'viscose/bullmq';
import type * as Tasks from '../fixtures/cluster-tasks.mjs';
import { CLI, CLUSTER_TASKS, KEEP_RECORDS, type NodeProcess, startNode, withQueue } from '../support/cluster-node.js';
import { Random } from '../support/random.js';
import { startRedis } from '../support/redis.mjs';
import { waitFor } from '../support/wait-for.js';

/** Without redis-server these tests skip (test/support/services.ts says so once). */
const hasRedis = inject('services').redis;

const QUEUE = 'viscose-one-at-a-time';

describe.skipIf(!hasRedis)('cluster calls with options, on a node that runs one job at a time', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let node: NodeProcess;
  let client: ClusterClient<typeof Tasks>;
  let dir: string;
  let files = 0;
  /** A fresh trace file for one test. */
  const traceFile = () => join(dir, `trace-${files++}.txt`);
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const hasLine = (file: string, line: string) => {
    try {
      return lines(file).includes(line);
    } catch {
      return false; // not written yet
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'viscose-cluster-'));
    redis = await startRedis();
    node = startNode(redis.url, { queue: QUEUE, concurrency: 1 });
    await node.serving();
    client = await ClusterClient.connect<typeof Tasks>({ queue: QUEUE, redis: redis.url, jobOptions: KEEP_RECORDS });
  });

  afterAll(async () => {
    await client?.close();
    node?.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Occupies the node (it runs one job at a time) until `release()`: jobs added meanwhile wait in
   * the queue however slowly the test adds them.
   */
  async function occupyNode(file: string) {
    const releaseFile = `${file}.release`;
    const blocker = client.run('recordUntilReleased', file, 'blocker', releaseFile);
    await waitFor(() => hasLine(file, 'start blocker'));
    return {
      release: async () => {
        writeFileSync(releaseFile, '');
        expect(await blocker).toBe('released blocker');
      },
    };
  }

  it('starts waiting jobs by priority: high, then normal, then low, each in the order added', async () => {
    const file = traceFile();
    const node = await occupyNode(file);
    const labels = (priority: string) => Array.from({ length: 5 }, (_, i): [string, string] => [file, `${priority} ${i}`]);
    const low = client.with({ priority: 'low' }).runBatch('record', labels('low'));
    const normal = client.runBatch('record', labels('normal'));
    const high = client.with({ priority: 'high' }).runBatch('record', labels('high'));
    await waitFor(async () => (await withQueue(redis.url, QUEUE, (queue) => queue.getJobCountByTypes('prioritized'))) === 15);
    await node.release();
    await Promise.all([low, normal, high]);
    const order = lines(file).filter((line) => !line.includes('blocker'));
    expect(order).toEqual([...labels('high'), ...labels('normal'), ...labels('low')].map(([, label]) => label));
  });

  it('removes the waiting jobs of aborted calls: they never run', async () => {
    const file = traceFile();
    const node = await occupyNode(file);
    const controller = new AbortController();
    const labels = Array.from({ length: 10 }, (_, i): [string, string] => [file, `withdrawn ${i}`]);
    const batch = client.with({ signal: controller.signal }).runBatch('record', labels);
    await waitFor(async () => (await withQueue(redis.url, QUEUE, (queue) => queue.getJobCountByTypes('prioritized'))) === 10);
    controller.abort(new Error('changed my mind'));
    const failure = await batch.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AbortError);
    expect(((failure as AbortError).cause as Error).message).toBe('changed my mind');
    await waitFor(async () => (await withQueue(redis.url, QUEUE, (queue) => queue.getJobCountByTypes('prioritized'))) === 0);
    await node.release();
    expect(await client.run('record', file, 'after')).toBe('after');
    expect(lines(file)).toEqual(['start blocker', 'released blocker', 'after']);
  });

  it('cancels the running job of an aborted call on its node, and does not retry it', async () => {
    const file = traceFile();
    const controller = new AbortController();
    const call = client.with({ signal: controller.signal, job: { attempts: 3 } }).run('recordUntilCancelled', file, 'long', 30_000);
    await waitFor(() => hasLine(file, 'start long'));
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(AbortError);
    // The task itself saw the cancellation, on the node.
    await waitFor(() => hasLine(file, 'cancelled long'));
    const job = await waitForFailedJob('recordUntilCancelled', file);
    expect(job.failedReason).toMatch(/^cancelled by its caller: /);
    expect(job.attemptsMade).toBe(1);
    expect(lines(file)).toEqual(['start long', 'cancelled long']);
    // The node goes on serving.
    expect(await client.run('add', 1, 2)).toBe(3);
  });

  it('withdraws only the calls of an aborted batch it had not heard finish: those keep their records', async () => {
    const file = traceFile();
    const released = `${file}.released`;
    writeFileSync(released, '');
    const held = `${file}.held`;
    const controller = new AbortController();
    // One job at a time: b0 and b1 finish, b2 runs until released, b3 waits.
    const argsList: [string, string, string][] = [
      [file, 'b0', released],
      [file, 'b1', released],
      [file, 'b2', held],
      [file, 'b3', held],
    ];
    const batch = client.with({ signal: controller.signal }).runBatchSettled('recordUntilReleased', argsList);
    await waitFor(() => hasLine(file, 'start b2'));
    controller.abort();
    const settled = await batch;
    expect(settled.slice(2).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect((settled[3] as PromiseRejectedResult).reason).toBeInstanceOf(AbortError);
    const recordOf = async (label: string) => {
      const jobs = await withQueue(redis.url, QUEUE, (queue) => queue.getJobs(['completed', 'failed', 'prioritized', 'active'], 0, 1000));
      return jobs.find((job) => (job.data as { args: unknown[] }).args[0] === file && (job.data as { args: unknown[] }).args[1] === label);
    };
    // b2's job fails as soon as its node hears the cancel; its task runs on until released.
    await waitFor(async () => (await recordOf('b2'))?.failedReason !== undefined);
    writeFileSync(held, '');
    // b0 and b1 finished on the node before the abort. The client settles a call when it hears of
    // its job's completion, and an abort settles the calls it has not heard of yet: under load a
    // completion event may still be on the way, and then the abort settled the call (AbortError)
    // and withdrew its job like the others, which removes a finished job's record too
    // (cancellation.ts). A call the client heard finish keeps its record.
    for (const [i, outcome] of settled.slice(0, 2).entries()) {
      const record = await recordOf(`b${i}`);
      if (outcome.status === 'fulfilled') {
        expect(outcome.value).toBe(`released b${i}`);
        expect(record?.returnvalue).toBe(`released b${i}`);
      } else {
        expect(outcome.reason).toBeInstanceOf(AbortError);
        if (record !== undefined) expect(record.returnvalue).toBe(`released b${i}`);
      }
    }
    expect((await recordOf('b2'))?.failedReason).toMatch(/^cancelled by its caller/);
    expect(await recordOf('b3')).toBeUndefined();
    expect(hasLine(file, 'start b3')).toBe(false);
  });

  it('rejects a call whose signal is already aborted, adding nothing', async () => {
    const controller = new AbortController();
    controller.abort('too late');
    const before = await withQueue(redis.url, QUEUE, (queue) => queue.count());
    await expect(client.with({ signal: controller.signal }).run('add', 1, 2)).rejects.toBeInstanceOf(AbortError);
    expect(await withQueue(redis.url, QUEUE, (queue) => queue.count())).toBe(before);
  });

  it('retries a failed job as its BullMQ attempts allow, and fails it without them', async () => {
    expect(await client.with({ job: { attempts: 2 } }).run('failOnce', traceFile())).toBe('second attempt');
    const failure = await client.run('failOnce', traceFile()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TaskError);
    expect(((failure as TaskError).cause as Error).message).toBe('first attempt fails');
  });

  it('settles every call of runBatchSettled, failures included', async () => {
    const settled = await client.runBatchSettled('failAt', [
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    expect(settled.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(settled[0]).toEqual({ status: 'fulfilled', value: 0 });
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(TaskError);
    expect(((settled[1] as PromiseRejectedResult).reason as TaskError).index).toBe(1);
  });

  it('refuses call options it does not know or cannot honour, saying which', () => {
    const refusal = (options: unknown) => {
      try {
        client.with(options as never);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refusal({ timeout: 10 })).toBeInstanceOf(InvalidOptionError);
    expect(String(refusal({ priority: 'urgent' }))).toMatch(/priority.*'high', 'normal' or 'low'/);
    expect(String(refusal({ signal: {} }))).toMatch(/signal.*AbortSignal/);
    expect(String(refusal({ job: { priority: 1 } }))).toMatch(/job\.priority.*client\.with\(\{ priority \}\)/);
    expect(String(refusal({ job: { jobId: 'mine' } }))).toMatch(/job\.jobId/);
  });

  it('rejects the calls still waiting when the client closes; their jobs still run', async () => {
    const other = await ClusterClient.connect<typeof Tasks>({ queue: QUEUE, redis: redis.url });
    const file = traceFile();
    const releaseFile = `${file}.release`;
    const call = other.run('recordUntilReleased', file, 'orphan', releaseFile).catch((error: unknown) => error);
    await waitFor(() => hasLine(file, 'start orphan'));
    await other.close();
    expect(await call).toBeInstanceOf(ClusterClientClosedError);
    await expect(other.run('add', 1, 2)).rejects.toBeInstanceOf(ClusterClientClosedError);
    writeFileSync(releaseFile, '');
    await waitFor(() => hasLine(file, 'released orphan'));
  });

  /** The failed job of `task` whose first argument is `file`, once BullMQ has recorded it. */
  async function waitForFailedJob(task: string, file: string) {
    let found: Job | undefined;
    await waitFor(async () => {
      const failed = await withQueue(redis.url, QUEUE, (queue) => queue.getJobs(['failed'], 0, 1000));
      found = failed.find((job) => job.name === task && (job.data as { args: unknown[] }).args[0] === file);
      return found !== undefined;
    });
    return found!;
  }
});

describe.skipIf(!hasRedis)('a client that missed its jobs’ completion events', () => {
  it('looks its silent jobs up in Redis and settles every call', async () => {
    const queue = 'viscose-trimmed-events';
    const redis = await startRedis();
    const node = startNode(redis.url, { queue });
    // Redis trims the event stream to about 10 entries: events a busy client has not read are lost.
    const client = await ClusterClient.connect<typeof Tasks>({
      queue,
      redis: redis.url,
      queueOptions: { streams: { events: { maxLen: 10 } } },
      resultCheckInterval: 300,
      jobOptions: KEEP_RECORDS,
    });
    try {
      await node.serving();
      const argsList = Array.from({ length: 400 }, (_, i): [number, number] => [i, i]);
      const batch = client.runBatch('add', argsList);
      await waitFor(async () => (await withQueue(redis.url, queue, (inspected) => inspected.getCompletedCount())) > 0);
      // Blocks this thread (and the client's event reading) while the node finishes the batch.
      const end = performance.now() + 2000;
      while (performance.now() < end);
      expect(await batch).toEqual(argsList.map(([a, b]) => a + b));
    } finally {
      await client.close();
      node.child.kill('SIGKILL');
      await redis.stop();
    }
  });
});

describe.skipIf(!hasRedis)('a node started with a key prefix and metrics', () => {
  it('serves the queue under that prefix, takes cancel requests there, and counts finished jobs per minute', async () => {
    const queue = 'viscose-prefixed';
    const prefix = 'tenant-a';
    const redis = await startRedis();
    const node = startNode(redis.url, { queue, options: ['--prefix', prefix, '--metrics'] });
    const client = await ClusterClient.connect<typeof Tasks>({ queue, redis: redis.url, queueOptions: { prefix } });
    const dir = mkdtempSync(join(tmpdir(), 'viscose-cluster-'));
    try {
      await node.serving();
      expect(
        await client.runBatch('add', [
          [1, 2],
          [3, 4],
        ]),
      ).toEqual([3, 7]);
      const file = join(dir, 'trace.txt');
      const controller = new AbortController();
      const call = client.with({ signal: controller.signal }).run('recordUntilCancelled', file, 'long', 30_000);
      await waitFor(() => existsSync(file));
      controller.abort();
      await expect(call).rejects.toBeInstanceOf(AbortError);
      await waitFor(() => readFileSync(file, 'utf8').includes('cancelled long'));
      const metrics = await withQueue(redis.url, queue, (inspected) => inspected.getMetrics('completed'), prefix);
      expect(metrics.meta.count).toBe(2);
      // Nothing under BullMQ's default prefix.
      expect(await withQueue(redis.url, queue, (inspected) => inspected.count())).toBe(0);
    } finally {
      await client.close();
      node.child.kill('SIGKILL');
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasRedis)('aborts racing with the jobs on two nodes', () => {
  it('settles every call exactly once, with its result or AbortError, and leaves no job behind', async () => {
    const queue = 'viscose-abort-race';
    const redis = await startRedis();
    const nodes = [startNode(redis.url, { queue }), startNode(redis.url, { queue })];
    const client = await ClusterClient.connect<typeof Tasks>({ queue, redis: redis.url });
    const random = new Random(Number(process.env.VISCOSE_ABORT_SEED ?? 20261129));
    try {
      await Promise.all(nodes.map((node) => node.serving()));
      const rounds = Number(process.env.VISCOSE_ABORT_ROUNDS ?? 3);
      for (let round = 0; round < rounds; round++) {
        // Single calls, each with a signal of its own, and batches sharing one; about half of
        // them are aborted, at random moments while their jobs wait, run or have just finished.
        // Each call's outcome is captured at once: a rejection is seen, never left unhandled.
        const capture = (outcome: Promise<unknown>) => Promise.allSettled([outcome]).then(([settled]) => settled);
        const singles = Array.from({ length: 300 }, (_, i) => {
          const controller = new AbortController();
          const outcome = capture(client.with({ signal: controller.signal }).run('delayedEcho', i, random.below(6)));
          return { controller, outcome, values: [i], batch: false };
        });
        const batches = Array.from({ length: 10 }, (_, b) => {
          const controller = new AbortController();
          const values = Array.from({ length: 30 }, (_, i) => 1000 * (b + 1) + i);
          const argsList = values.map((v): [number, number] => [v, random.below(6)]);
          const outcome = capture(client.with({ signal: controller.signal }).runBatchSettled('delayedEcho', argsList));
          return { controller, outcome, values, batch: true };
        });
        const calls = [...singles, ...batches];
        const aborted = new Set<AbortController>();
        await Promise.all(
          calls
            .filter(() => random.below(2) === 0)
            .map(async ({ controller }) => {
              await new Promise((resolve) => setTimeout(resolve, random.below(400)));
              aborted.add(controller);
              controller.abort();
            }),
        );
        let fulfilled = 0;
        let abortedCalls = 0;
        for (const { controller, outcome, values, batch } of calls) {
          const settled = await outcome; // a call that never settled would time the test out
          const results = batch && settled.status === 'fulfilled' ? (settled.value as PromiseSettledResult<unknown>[]) : [settled];
          expect(results).toHaveLength(batch && settled.status === 'fulfilled' ? values.length : 1);
          results.forEach((result, i) => {
            if (result.status === 'fulfilled') {
              expect(result.value).toBe(values[i]);
              fulfilled++;
            } else {
              // Only an aborted call fails, and only with AbortError.
              expect(result.reason).toBeInstanceOf(AbortError);
              expect(aborted.has(controller)).toBe(true);
              abortedCalls++;
            }
          });
        }
        // Both outcomes happened: the race was run, not avoided.
        expect(fulfilled).toBeGreaterThan(0);
        expect(abortedCalls).toBeGreaterThan(0);
      }
      // Every job ended: none left waiting, running or held by a lost request.
      await waitFor(async () => {
        const counts = await withQueue(redis.url, queue, (inspected) =>
          inspected.getJobCounts('waiting', 'prioritized', 'active', 'delayed'),
        );
        return Object.values(counts).every((count) => count === 0);
      }, 30_000);
    } finally {
      await client.close();
      for (const node of nodes) node.child.kill('SIGKILL');
      await redis.stop();
    }
  });
});

describe('a Redis that is not there, or goes away', () => {
  // Port 1 on loopback: nothing listens, every connection attempt is refused at once.
  const NOWHERE = 'redis://user:secret@127.0.0.1:1';

  /** Runs `node args` to its end; what it printed and how it ended. */
  async function runToEnd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, args, {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  }

  it('fails a client’s connect within connectTimeout, naming the server without its password and the cause', async () => {
    const failure = await ClusterClient.connect({ queue: 'q', redis: NOWHERE, connectTimeout: 300 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('could not reach Redis at redis://***@127.0.0.1:1 within 300 ms');
    expect(((failure as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('leaves nothing running after a failed connect: the process ends by itself', async () => {
    const script = `import { ClusterClient } from 'viscose/bullmq';
      await ClusterClient.connect({ queue: 'q', redis: '${NOWHERE}', connectTimeout: 300 }).catch((error) => console.error(error.message));`;
    const { code, stderr } = await runToEnd(['--input-type=module', '-e', script]);
    expect(stderr).toContain('could not reach Redis');
    expect(code).toBe(0);
  });

  it.skipIf(!hasRedis)('lets a client and a node that lost their Redis close, and their process end by itself', async () => {
    const { code, stderr, stdout } = await runToEnd([fileURLToPath(new URL('../fixtures/cluster-without-redis.mjs', import.meta.url))]);
    expect(stderr).not.toMatch(/Error/);
    expect(stdout).toMatch(/client closed in \d+ ms/);
    expect(stdout).toMatch(/node closed in \d+ ms/);
    expect(code).toBe(0);
  });

  it.skipIf(!hasRedis)('makes `viscose worker` stop on SIGTERM after its Redis went away', async () => {
    const redis = await startRedis();
    const node = startNode(redis.url, { queue: 'gone' });
    await node.serving();
    await redis.stop();
    const exited = once(node.child, 'exit');
    node.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(node.output()).toContain('stopped');
  });

  it('makes `viscose worker` exit with an error, its pool closed', async () => {
    const { code, stderr } = await runToEnd([
      CLI,
      'worker',
      '--module',
      CLUSTER_TASKS,
      '--queue',
      'q',
      '--redis',
      NOWHERE,
      '--connect-timeout',
      '300',
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('could not reach Redis at redis://***@127.0.0.1:1 within 300 ms: connect ECONNREFUSED');
  });
});
