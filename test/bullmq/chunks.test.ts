// Chunked jobs against a real Redis: a batch's calls share jobs, yet each call keeps its own
// result, error, index, retries, priority and abort; `run` calls of one turn share jobs too.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AbortError, InvalidOptionError, QueueFullError, TaskError } from 'viscose';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ClusterClient, type ClusterClientOptions } from 'viscose/bullmq';
import type * as Tasks from '../fixtures/cluster-tasks.mjs';
import { KEEP_RECORDS, type NodeProcess, chunkCalls, chunkLength, jobArgsOf, startNode, withQueue } from '../support/cluster-node.js';
import { startRedis } from '../support/redis.mjs';
import { unpackSequence } from '../../src/codec/msgpack.js';
import { PayloadKind } from '../../src/shm/slot.js';
import { rejection } from '../support/rejection.js';
import { waitFor } from '../support/wait-for.js';

/** Without redis-server these tests skip (test/support/services.ts says so once). */
const hasRedis = inject('services').redis;

let queues = 0;

describe.skipIf(!hasRedis)('chunked jobs', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const nodes: NodeProcess[] = [];
  const clients: ClusterClient<typeof Tasks>[] = [];
  let dir: string;

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'viscose-chunks-'));
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    for (const node of nodes) node.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh queue served by `nodeCount` one-thread nodes, and a client of it (keeping the jobs' records unless told otherwise). */
  async function cluster(
    options: {
      chunkSize?: number;
      maxQueue?: number;
      nodes?: number;
      concurrency?: number;
      threads?: number;
      jobOptions?: ClusterClientOptions['jobOptions'];
    } = {},
  ) {
    const queue = `viscose-chunks-${++queues}`;
    const started = Array.from({ length: options.nodes ?? 1 }, () =>
      startNode(redis.url, { queue, concurrency: options.concurrency, threads: options.threads }),
    );
    nodes.push(...started);
    await Promise.all(started.map((node) => node.serving()));
    const client = await ClusterClient.connect<typeof Tasks>({
      queue,
      redis: redis.url,
      chunkSize: options.chunkSize,
      maxQueue: options.maxQueue,
      jobOptions: options.jobOptions ?? KEEP_RECORDS,
    });
    clients.push(client);
    return { queue, client };
  }

  function lines(file: string): string[] {
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }

  /**
   * Holds a node's thread with a call that writes "start blocker" to `file` and waits for its
   * release; resolves once it started.
   */
  async function holdThread(client: ClusterClient<typeof Tasks>, file: string) {
    const releaseFile = `${file}.release`;
    const blocker = client.run('recordUntilReleased', file, 'blocker', releaseFile);
    await waitFor(() => lines(file).includes('start blocker'));
    return { blocker, release: () => writeFileSync(releaseFile, '') };
  }

  it('gives each call of a chunk its own result or its own error, with its batch index', async () => {
    const { queue, client } = await cluster({ chunkSize: 4, nodes: 2 });
    const argsList = Array.from({ length: 10 }, (_, i): [number, number] => [i, i % 3 === 0 ? i : -1]);
    const outcomes = await client.runBatchSettled('failAt', argsList);
    outcomes.forEach((outcome, i) => {
      if (i % 3 !== 0) {
        expect(outcome).toEqual({ status: 'fulfilled', value: i * i });
        return;
      }
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as TaskError;
      expect(error).toBeInstanceOf(TaskError);
      expect(error.index).toBe(i);
      expect(error.worker).toMatch(/:\d+$/);
      expect((error.cause as Error).message).toContain(String(i));
    });
    // 10 calls in chunks of 4: three jobs, which completed (failures are their calls' outcomes).
    const jobs = await withQueue(redis.url, queue, (inspected) => inspected.getJobs(['completed', 'failed'], 0, 100));
    expect(jobs.map((job) => chunkLength(job.data)).sort()).toEqual([2, 4, 4]);
    expect(await rejection(client.runBatch('failAt', argsList))).toMatchObject({ index: 0 });
  });

  it("retries only a chunk's failed calls, as often as the job's attempts allow", async () => {
    const { client } = await cluster({ chunkSize: 8 });
    const file = join(dir, 'retries');
    const labels = Array.from({ length: 8 }, (_, i) => `c${i}`);
    const results = await client.with({ job: { attempts: 2 } }).runBatch(
      'recordFailingOnce',
      labels.map((label, i): [string, string, boolean] => [file, label, i % 4 === 1]),
    );
    expect(results).toEqual(labels);
    const runs = lines(file);
    for (const [i, label] of labels.entries()) {
      expect(runs.filter((line) => line === `run ${label}`).length, label).toBe(i % 4 === 1 ? 2 : 1);
    }
    // Without attempts left, the failure is the call's outcome.
    const once = join(dir, 'no-retries');
    const outcomes = await client.runBatchSettled('recordFailingOnce', [
      [once, 'a', false],
      [once, 'b', true],
    ]);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'a' });
    expect(((outcomes[1] as PromiseRejectedResult).reason as TaskError).cause).toMatchObject({ message: 'first run of b fails' });
    expect(lines(once)).toEqual(['run a', 'run b']);
  });

  it('takes the chunks of high-priority calls before those of low-priority ones', async () => {
    const { queue, client } = await cluster({ chunkSize: 3, concurrency: 1 });
    const file = join(dir, 'priorities');
    const { blocker, release } = await holdThread(client, file);
    const low = client.with({ priority: 'low' }).runBatch(
      'record',
      Array.from({ length: 6 }, (_, i): [string, string] => [file, `low${i}`]),
    );
    const high = client.with({ priority: 'high' }).runBatch(
      'record',
      Array.from({ length: 6 }, (_, i): [string, string] => [file, `high${i}`]),
    );
    // Both batches are in the queue (two chunks each) before the node takes another job.
    await waitFor(async () => (await withQueue(redis.url, queue, (inspected) => inspected.getJobCounts('prioritized'))).prioritized === 4);
    release();
    await Promise.all([blocker, low, high]);
    const order = lines(file).filter((line) => /^(low|high)/.test(line));
    expect(order.slice(0, 6).every((line) => line.startsWith('high'))).toBe(true);
    expect(order.slice(6).every((line) => line.startsWith('low'))).toBe(true);
  });

  it('rejects every call of an aborted chunked batch with AbortError and leaves no job behind', async () => {
    const { queue, client } = await cluster({ chunkSize: 5 });
    const controller = new AbortController();
    const file = join(dir, 'aborts');
    const outcomes = client.with({ signal: controller.signal }).runBatchSettled(
      'recordUntilCancelled',
      Array.from({ length: 20 }, (_, i): [string, string, number] => [file, `a${i}`, 20_000]),
    );
    await waitFor(() => lines(file).some((line) => line.startsWith('start')));
    controller.abort(new Error('stop'));
    const settled = await outcomes;
    for (const outcome of settled) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(AbortError);
    }
    await waitFor(async () => {
      const counts = await withQueue(redis.url, queue, (inspected) =>
        inspected.getJobCounts('active', 'waiting', 'prioritized', 'delayed'),
      );
      return Object.values(counts).every((count) => count === 0);
    });
    // The running chunk was cancelled: its task saw isCancelled().
    await waitFor(() => lines(file).some((line) => line.startsWith('cancelled')));
    // The withdrawn chunks' arguments went with their jobs; those of the chunks the node had
    // taken, which failed as cancelled, stay with their records for a day (removeOnFail's default).
    const leftAndFailed = () =>
      withQueue(redis.url, queue, async (inspected, connection) => ({
        left: await argsLeft(inspected, connection),
        failed: (await inspected.getJobs(['failed'])).map((job) => job.id!).sort(),
      }));
    await waitFor(async () => {
      const { left, failed } = await leftAndFailed();
      return left.every(({ ttl }) => ttl > 0) && left.length === failed.length;
    });
    const { left, failed } = await leftAndFailed();
    expect(failed.length).toBeGreaterThan(0);
    expect(left.map(({ id }) => id)).toEqual(failed);
    for (const { record, ttl } of left) {
      expect(record).toBe(true);
      expect(ttl).toBeGreaterThan(86_000);
    }
  });

  it('adds the run calls of one task made in one turn together, each with its own result', async () => {
    const { queue, client } = await cluster({ chunkSize: 10 });
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => client.run('add', i, 1000)));
    expect(results).toEqual(Array.from({ length: 25 }, (_, i) => i + 1000));
    // A lone call is a job of its own; calls with another priority do not share its job.
    expect(await client.run('add', 1, 2)).toBe(3);
    const [normal, high] = await Promise.all([client.run('add', 5, 5), client.with({ priority: 'high' }).run('add', 6, 6)]);
    expect([normal, high]).toEqual([10, 12]);
    const jobs = await withQueue(redis.url, queue, (inspected) => inspected.getJobs(['completed'], 0, 100));
    const chunks = jobs.map((job) => chunkLength(job.data)).filter((calls) => calls !== undefined);
    expect(chunks.sort()).toEqual([10, 10, 5]);
    const singles = jobs.filter((job) => Array.isArray(job.data.args)).map((job) => job.data.args);
    expect(singles).toHaveLength(3);
    expect(singles).toEqual(
      expect.arrayContaining([
        [1, 2],
        [5, 5],
        [6, 6],
      ]),
    );
  });

  it("reports the time a chunk's calls ran on the node's threads, not the time they waited there", async () => {
    // One thread, two jobs at once: the chunk waits in the node's pool behind a call held there.
    const { queue, client } = await cluster({ chunkSize: 4, concurrency: 2 });
    const { blocker, release } = await holdThread(client, join(dir, 'waited'));
    const chunk = client.runBatch('add', [
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const activeChunk = () =>
      withQueue(redis.url, queue, (inspected) => inspected.getJobs(['active'])).then((jobs) =>
        jobs.some((job) => chunkLength(job.data) !== undefined),
      );
    await waitFor(activeChunk);
    const heldMs = 400;
    await new Promise((resolve) => setTimeout(resolve, heldMs));
    release();
    expect(await chunk).toEqual([2, 4, 6]);
    await blocker;
    const jobs = await withQueue(redis.url, queue, (inspected) => inspected.getJobs(['completed']));
    const result = jobs.find((job) => chunkLength(job.data) !== undefined)?.returnvalue;
    expect(result).toMatchObject({ ran: 3 });
    // Three additions take microseconds of a thread; the chunk waited at least heldMs behind the blocker.
    expect(result.runMs).toBeGreaterThanOrEqual(0);
    expect(result.runMs).toBeLessThan(heldMs / 2);
  });

  it("removes a completed job's record once it has read the result, unless removeOnComplete is given", async () => {
    const { queue, client } = await cluster({ chunkSize: 10, jobOptions: {} });
    const argsList = Array.from({ length: 50 }, (_, i): [number, number] => [i, 1]);
    const sums = argsList.map(([a, b]) => a + b);
    // A call's own removeOnComplete: BullMQ's rule alone, so these five chunks' records stay.
    expect(await client.with({ job: { removeOnComplete: { age: 60 } } }).runBatch('add', argsList)).toEqual(sums);
    expect(await client.runBatch('add', argsList)).toEqual(sums);
    expect(await client.run('add', 1, 2)).toBe(3);
    await waitFor(async () => (await withQueue(redis.url, queue, (inspected) => inspected.getCompletedCount())) === 5);
    const kept = await withQueue(redis.url, queue, (inspected) => inspected.getJobs(['completed'], 0, 100));
    expect(kept.map((job) => job.opts.removeOnComplete)).toEqual(Array(5).fill({ age: 60 }));
  });

  it("packs a chunk's arguments beside its job and its values in its result when JSON's types cover them, and sends the others as JSON", async () => {
    const { queue, client } = await cluster({ chunkSize: 2 });
    const plain: unknown[][] = [
      [1, { name: 'é✓', tags: ['a', true, null] }],
      [-2.5, []],
    ];
    expect(await client.runBatch('echo', plain)).toEqual(plain);
    // A Date and an undefined are not JSON's own: the chunk is JSON, and the task gets JSON's conversions.
    const converted = await client.runBatch('echo', [[new Date(0)], [undefined, 1]] as unknown[][]);
    expect(converted).toEqual(['1970-01-01T00:00:00.000Z', [null, 1]]); // echo returns a lone argument itself
    const { packed, json, left } = await withQueue(redis.url, queue, async (inspected, connection) => {
      const jobs = await inspected.getJobs(['completed'], 0, 10);
      const args = jobArgsOf(inspected, connection);
      const packedJobs = jobs.filter((job) => 'packedCalls' in job.data);
      return {
        packed: await Promise.all(packedJobs.map(async (job) => ({ job, calls: await chunkCalls(args, job) }))),
        json: jobs.filter((job) => 'calls' in job.data),
        left: await argsLeft(inspected, connection),
      };
    });
    expect(packed.map(({ job }) => job.data)).toEqual([{ task: 'echo', packedCalls: 2 }]);
    expect(packed.map(({ calls }) => calls)).toEqual([plain]);
    expect(json.map((job) => job.data.calls)).toEqual([[['1970-01-01T00:00:00.000Z'], [null, 1]]]);
    // The arguments stay as long as the record: an hour here (KEEP_RECORDS).
    expect(left).toEqual([{ id: packed[0].job.id, record: true, ttl: expect.any(Number) }]);
    expect(left[0].ttl).toBeGreaterThan(3500);
    expect(left[0].ttl).toBeLessThanOrEqual(3600);
    // Values of JSON's types come back packed; bytes are not, and come back as their JSON.
    expect(packed.map(({ job }) => typeof job.returnvalue.packed)).toEqual(['string']);
    expect(await client.runBatch('bytes', [[2], [1]])).toEqual([{ 0: 0, 1: 1 }, { 0: 0 }]);
    const records = await withQueue(redis.url, queue, (inspected) => inspected.getJobs(['completed'], 0, 10));
    const bytes = records.find((job) => Array.isArray(job.returnvalue?.values) && job.data.task === 'bytes');
    expect(bytes?.returnvalue.values).toEqual([{ 0: 0, 1: 1 }, { 0: 0 }]);
  });

  it("joins the values its node's threads packed, one list per thread, in the order of the calls", async () => {
    const { queue, client } = await cluster({ chunkSize: 100, threads: 2 });
    const argsList = Array.from({ length: 200 }, (_, i): [number, number] => [i, 150]);
    const settled = await client.runBatchSettled('failAt', argsList);
    settled.forEach((result, i) => {
      if (i !== 150) expect(result).toEqual({ status: 'fulfilled', value: i * i });
    });
    expect(settled[150]).toMatchObject({
      status: 'rejected',
      reason: { index: 150, cause: { message: 'call 150 is bad', code: 'E_BAD_CALL' } },
    });
    // Each chunk's result holds two lists of 50 values, one per pool thread's share of its calls.
    const records = await withQueue(redis.url, queue, (inspected) => inspected.getJobs(['completed'], 0, 10));
    const lists = records.map((job) => unpackSequence(Buffer.from(job.returnvalue.packed, 'base64'), PayloadKind.RECORDS));
    expect(lists.map((chunk) => chunk.map((list) => (list as unknown[]).length))).toEqual([
      [50, 50],
      [50, 50],
    ]);
  });

  it("keeps a packed chunk's arguments as long as its record, and no longer", async () => {
    const { queue, client } = await cluster({ chunkSize: 5, jobOptions: {} });
    const argsList = Array.from({ length: 10 }, (_, i): [number, number] => [i, 1]);
    const sums = argsList.map(([a, b]) => a + b);
    // Records kept for good, removed at once, and removed by the client once it read the results.
    expect(await client.with({ job: { removeOnComplete: false } }).runBatch('add', argsList)).toEqual(sums);
    expect(await client.with({ job: { removeOnComplete: true } }).runBatch('add', argsList)).toEqual(sums);
    expect(await client.runBatch('add', argsList)).toEqual(sums);
    await waitFor(async () => (await withQueue(redis.url, queue, argsLeft)).length === 2);
    const left = await withQueue(redis.url, queue, argsLeft);
    expect(left.map(({ record, ttl }) => ({ record, ttl }))).toEqual([
      { record: true, ttl: -1 },
      { record: true, ttl: -1 },
    ]);
  });

  it('fails a chunk whose packed arguments are gone or unreadable, without trying it again', async () => {
    const { queue } = await cluster();
    const reasons = await withQueue(redis.url, queue, async (inspected, connection) => {
      const args = jobArgsOf(inspected, connection);
      await args.write([['short', new Uint8Array(3)]]);
      const options = { attempts: 3 };
      await inspected.add('add', { task: 'add', packedCalls: 2 }, { ...options, jobId: 'gone' });
      await inspected.add('add', { task: 'add', packedCalls: 2 }, { ...options, jobId: 'short' });
      await waitFor(async () => (await inspected.getFailedCount()) === 2);
      const failed = await inspected.getJobs(['failed']);
      return Object.fromEntries(failed.map((job) => [job.id, [job.failedReason, job.attemptsMade]]));
    });
    expect(reasons.gone[0]).toMatch(/job gone holds a chunk that cannot be read: its arguments are gone from Redis/);
    expect(reasons.short[0]).toMatch(/job short holds a chunk that cannot be read: 3 bytes cannot hold the lengths of 2 packed calls/);
    expect([reasons.gone[1], reasons.short[1]]).toEqual([1, 1]);
  });

  /** The packed arguments left in `queue`'s keys: whose job, whether its record is there, and their TTL. */
  async function argsLeft(queue: Queue, connection: Redis): Promise<{ id: string; record: boolean; ttl: number }[]> {
    const keys = await connection.keys(`${queue.opts.prefix ?? 'bull'}:${queue.name}:*:viscose-args`);
    const left = await Promise.all(
      keys.map(async (key) => {
        const id = key.split(':').at(-2)!;
        return { id, record: (await connection.exists(queue.toKey(id))) === 1, ttl: await connection.ttl(key) };
      }),
    );
    return left.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  it('counts gathered run calls against maxQueue one by one', async () => {
    const queue = `viscose-chunks-${++queues}`;
    const client = await ClusterClient.connect<typeof Tasks>({ queue, redis: redis.url, maxQueue: 3 });
    clients.push(client);
    const calls = Array.from({ length: 5 }, (_, i) => client.run('add', i, 0));
    const refused = await Promise.all(calls.slice(3).map(rejection));
    for (const error of refused) expect(error).toBeInstanceOf(QueueFullError);
    const node = startNode(redis.url, { queue });
    nodes.push(node);
    expect(await Promise.all(calls.slice(0, 3))).toEqual([0, 1, 2]);
  });

  it('checks chunkSize', async () => {
    for (const chunkSize of [0, 1.5, 5000, 'big']) {
      const error = await rejection(ClusterClient.connect({ queue: 'unused', redis: redis.url, chunkSize: chunkSize as number }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(/chunkSize/);
    }
  });
});
