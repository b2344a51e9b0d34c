// viscose/bullmq against a real Redis: a client and two node processes, each serving the queue
// with its own pool.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TaskError } from 'viscose';
import { ClusterClient } from 'viscose/bullmq';
import type * as Tasks from '../fixtures/cluster-tasks.mjs';
import { KEEP_RECORDS, type NodeProcess, chunkCalls, jobArgsOf, startNode, withQueue } from '../support/cluster-node.js';
import { startRedis } from '../support/redis.mjs';
import { waitFor } from '../support/wait-for.js';

/** Without redis-server these tests skip (test/support/services.ts says so once). */
const hasRedis = inject('services').redis;

const QUEUE = 'viscose-test';

describe.skipIf(!hasRedis)('a cluster over BullMQ: a client and two nodes', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let nodes: NodeProcess[] = [];
  let client: ClusterClient<typeof Tasks>;

  beforeAll(async () => {
    redis = await startRedis();
    nodes = [startNode(redis.url, { queue: QUEUE }), startNode(redis.url, { queue: QUEUE })];
    await Promise.all(nodes.map((node) => node.serving()));
    client = await ClusterClient.connect<typeof Tasks>({ queue: QUEUE, redis: redis.url, jobOptions: KEEP_RECORDS });
  });

  afterAll(async () => {
    await client?.close();
    for (const node of nodes) node.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('runs 10,000 tasks in one batch, each result correct, on both nodes', async () => {
    const argsList = Array.from({ length: 10_000 }, (_, i): [number, number] => [i, 3 * i]);
    const results = await client.runBatch('add', argsList);
    expect(results).toEqual(argsList.map(([a, b]) => a + b));
    // In chunks: jobs of many calls each, which together hold every call once.
    const jobs = await withQueue(redis.url, QUEUE, async (queue, connection) => {
      const args = jobArgsOf(queue, connection);
      const completed = await queue.getJobs(['completed'], 0, 10_000);
      return Promise.all(completed.map(async (job) => ({ job, calls: (await chunkCalls(args, job)) as [number, number][] | undefined })));
    });
    const chunks = jobs.filter(({ calls }) => calls?.[0]?.[1] === 3 * (calls?.[0]?.[0] ?? Number.NaN));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(10_000 / 2);
    const firsts = chunks.flatMap(({ calls }) => calls!.map(([a]) => a)).sort((a, b) => a - b);
    expect(firsts).toEqual(argsList.map(([a]) => a));
    // Both nodes took part: BullMQ records which worker processed each job.
    expect(new Set(chunks.map(({ job }) => job.processedBy)).size).toBe(2);
  });

  it('runs single calls, with their results', async () => {
    expect(await client.run('add', 2, 3)).toBe(5);
    expect(await client.run('echo', 'a', [1, 2], { k: true })).toEqual(['a', [1, 2], { k: true }]);
  });

  it("delivers a task's error with its name, message, code and stack, and the node it ran on", async () => {
    const failure = await client.run('fail', 'out of range', 'E_RANGE').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TaskError);
    const error = failure as TaskError;
    expect(error.task).toBe('fail');
    expect(error.worker).toMatch(/:\d+$/); // host:pid of the node
    const cause = error.cause as Error & { code?: string };
    expect(cause.name).toBe('RangeError');
    expect(cause.message).toBe('out of range');
    expect(cause.code).toBe('E_RANGE');
    expect(cause.stack).toContain('fail');
    expect(cause.stack).toContain('tasks.mjs');
  });

  it('fails a batch call by its index and still runs the others', async () => {
    const failure = await client
      .runBatch('failAt', [
        [0, 2],
        [1, 2],
        [2, 2],
        [3, 2],
      ])
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TaskError);
    expect((failure as TaskError).index).toBe(2);
  });

  it('reports an unknown task as a failure of that call', async () => {
    const failure = await (client as unknown as ClusterClient).run('noSuchTask').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TaskError);
    expect(((failure as TaskError).cause as Error).message).toMatch(/noSuchTask/);
  });

  it('drains on SIGTERM: the jobs a node has in hand finish there, then it exits', async () => {
    const extra = startNode(redis.url, { queue: QUEUE, shortLocks: false }); // BullMQ's own lock settings
    const name = await extra.serving();
    const values = Array.from({ length: 30 }, (_, i) => i);
    // 500 ms each: the jobs found in the node's hands are still running when it gets SIGTERM.
    const batch = client.runBatch(
      'delayedEcho',
      values.map((i): [number, number] => [i, 500]),
    );
    let held: string[] = [];
    await waitFor(async () => {
      const active = await withQueue(redis.url, QUEUE, (queue) => queue.getJobs(['active'], 0, 1000));
      held = active.filter((job) => job.processedBy === name).map((job) => job.id!);
      return held.length > 0;
    }, 10_000);
    const exited = once(extra.child, 'exit');
    extra.child.kill('SIGTERM');
    expect(await batch).toEqual(values);
    const [code] = await exited;
    expect(code).toBe(0);
    expect(extra.output()).toContain('SIGTERM: finishing the jobs in hand');
    expect(extra.output()).toContain('stopped');
    // Finished by the node itself, not found stalled and run again elsewhere.
    const jobs = await withQueue(redis.url, QUEUE, (queue) => Promise.all(held.map((id) => queue.getJob(id))));
    for (const job of jobs) {
      expect(job?.finishedOn).toBeDefined();
      expect(job?.processedBy).toBe(name);
      expect(job?.stalledCounter).toBe(0);
    }
  });

  it('completes every task of 10,000 when a node is killed in the middle (its jobs run again elsewhere)', async () => {
    const doomed = startNode(redis.url, { queue: QUEUE });
    const name = await doomed.serving();
    const completedBefore = await withQueue(redis.url, QUEUE, (queue) => queue.getCompletedCount());
    const values = Array.from({ length: 10_000 }, (_, i) => i);
    // Chunks of 10 calls of 1 ms (about 3 s on three one-thread nodes), so that the node dies in
    // the middle. `delayedEcho(i, 1)`: told apart from the other tests' jobs by the delay.
    const chunked = await ClusterClient.connect<typeof Tasks>({ queue: QUEUE, redis: redis.url, chunkSize: 10, jobOptions: KEEP_RECORDS });
    const batch = chunked.runBatch(
      'delayedEcho',
      values.map((i): [number, number] => [i, 1]),
    );
    // In the middle: a fifth of the batch done, and the doomed node holding jobs.
    await waitFor(async () => {
      const done = (await withQueue(redis.url, QUEUE, (queue) => queue.getCompletedCount())) - completedBefore;
      return done >= 200 && (await jobsProcessedBy(name, ['active'])) > 0;
    }, 30_000);
    doomed.child.kill('SIGKILL');
    expect(await batch).toEqual(values);
    await chunked.close();
    // The jobs the killed node held were found stalled and completed by another node.
    const recovered = await withQueue(redis.url, QUEUE, async (queue, connection) => {
      const args = jobArgsOf(queue, connection);
      const stalled = (await queue.getJobs(['completed'], 0, 100_000)).filter((job) => job.stalledCounter > 0);
      const calls = await Promise.all(stalled.map((job) => chunkCalls(args, job)));
      return stalled.filter((_, i) => calls[i]?.[0]?.[1] === 1);
    });
    expect(recovered.length).toBeGreaterThan(0);
    for (const job of recovered) expect(job.processedBy).not.toBe(name);
  });

  /** How many jobs in these states the node named `name` took. */
  async function jobsProcessedBy(name: string, states: ('active' | 'completed')[]): Promise<number> {
    const jobs = await withQueue(redis.url, QUEUE, (queue) => queue.getJobs(states, 0, 100_000));
    return jobs.filter((job) => job.processedBy === name).length;
  }
});
