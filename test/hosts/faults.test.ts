// Faults across simulated hosts, with a chunked batch in flight: a host cut off from Redis for
// 10 s and back, a host killed, Redis killed and restarted from its append-only file. Each time,
// every call settles exactly once — here all succeed — a call ran twice only inside a chunk that
// BullMQ found stalled (at least once, as docs/cluster.md says), and no job is left behind.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient } from 'viscose/bullmq';
import type * as Tasks from '../fixtures/cluster-tasks.mjs';
import { CLUSTER_TASKS, KEEP_RECORDS, chunkCalls, jobArgsOf, withQueue } from '../support/cluster-node.js';
import { createHosts, type Host, type HostNode, type Hosts } from '../support/hosts/index.mjs';
import type { RedisServer } from '../support/redis.mjs';
import { waitFor } from '../support/wait-for.js';

/** Without root, iproute2, a cgroup cpu controller or redis-server these tests skip (test/support/services.ts says so once). */
const hasHosts = inject('services').hosts && inject('services').redis;

/** Locks of 2 s checked every second: a lost node's chunks run again within seconds. */
const SHORT_LOCKS = ['--lock-duration', '2000', '--stalled-interval', '1000'];
const CALLS = 400;
const CHUNK = 8;
const WORK_MS = 5;

describe.skipIf(!hasHosts)('faults across hosts, with a chunked batch in flight', () => {
  let hosts: Hosts;
  let redis: RedisServer;
  let dir: string;
  let queues = 0;

  beforeAll(async () => {
    hosts = createHosts();
    redis = await hosts.startRedis({ appendonly: true });
    dir = mkdtempSync(join(tmpdir(), 'viscose-faults-'));
  });

  afterAll(() => {
    hosts?.disposeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Two hosts of one node each on a fresh queue, and a client outside them. */
  async function cluster(name: string) {
    const queue = `faults-${++queues}`;
    const [a, b] = [await hosts.addHost(`${name}-a`), await hosts.addHost(`${name}-b`)];
    const nodes = await Promise.all([a, b].map((host) => hosts.startNode(host, { queue, module: CLUSTER_TASKS, extraArgs: SHORT_LOCKS })));
    const client = await ClusterClient.connect<typeof Tasks>({
      queue,
      redis: redis.url,
      chunkSize: CHUNK,
      jobOptions: KEEP_RECORDS,
      onError: () => {},
    });
    return { queue, hosts: [a, b] as [Host, Host], nodes: nodes as [HostNode, HostNode], client };
  }

  /** Starts the batch: call i records `c<i>` in `file` and works WORK_MS. */
  function startBatch(client: ClusterClient<typeof Tasks>, file: string) {
    const labels = Array.from({ length: CALLS }, (_, i) => `c${i}`);
    const outcomes = client.runBatchSettled(
      'recordAndWork',
      labels.map((label): [string, string, number] => [file, label, WORK_MS]),
    );
    return { labels, outcomes };
  }

  /** Resolves once `count` calls have run (their labels are in `file`). */
  function ran(file: string, count: number) {
    return waitFor(() => runs(file).length >= count, 30_000);
  }

  function runs(file: string): string[] {
    try {
      return readFileSync(file, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  /**
   * The accounting: every call succeeded with its own label; a label that ran more than once
   * belongs to a chunk BullMQ found stalled; the queue holds no job waiting or active.
   */
  async function account(queue: string, file: string, labels: string[], settled: PromiseSettledResult<string>[]) {
    expect(settled).toHaveLength(labels.length);
    const failures = settled.flatMap((outcome, i) => (outcome.status === 'rejected' ? [`${i}: ${outcome.reason}`] : []));
    expect(failures).toEqual([]);
    expect(settled.map((outcome) => (outcome as PromiseFulfilledResult<string>).value)).toEqual(labels);
    const counts = new Map<string, number>();
    for (const label of runs(file)) counts.set(label, (counts.get(label) ?? 0) + 1);
    for (const label of labels) expect(counts.get(label) ?? 0, label).toBeGreaterThanOrEqual(1);
    const twice = labels.filter((label) => (counts.get(label) ?? 0) > 1);
    await waitFor(async () => {
      const left = await withQueue(redis.url, queue, (inspected) => inspected.getJobCounts('active', 'waiting', 'prioritized', 'delayed'));
      return Object.values(left).every((count) => count === 0);
    }, 30_000);
    const { jobs, stalledCalls } = await withQueue(redis.url, queue, async (inspected, connection) => {
      const args = jobArgsOf(inspected, connection);
      const finished = await inspected.getJobs(['completed', 'failed'], 0, 10_000);
      const ranAgain = finished.filter((job) => job.stalledCounter > 0 || job.attemptsStarted > 1);
      return { jobs: finished, stalledCalls: await Promise.all(ranAgain.map((job) => chunkCalls(args, job))) };
    });
    const stalledLabels = new Set(stalledCalls.flatMap((calls) => (calls as string[][]).map((args) => args[1])));
    for (const label of twice) expect(stalledLabels.has(label), `${label} ran twice outside a stalled chunk`).toBe(true);
    return { twice: twice.length, stalledChunks: jobs.filter((job) => job.stalledCounter > 0).length };
  }

  it('a host cut off from Redis for 10 s: its chunks run elsewhere, and it serves again once back', async () => {
    const {
      queue,
      hosts: [a],
      nodes: [nodeA],
      client,
    } = await cluster('cut');
    const file = join(dir, 'cut');
    try {
      const { labels, outcomes } = startBatch(client, file);
      await ran(file, CALLS / 4);
      hosts.cutOff(a);
      const cutAt = performance.now();
      const settled = await outcomes;
      const { stalledChunks } = await account(queue, file, labels, settled);
      // The chunks the cut-off node held were found stalled and completed by the other node.
      expect(stalledChunks).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (performance.now() - cutAt))));
      hosts.reconnect(a);
      const reconnectedAt = Date.now();
      // Back: the node takes and completes jobs again (more small batches until one of its own).
      await waitFor(async () => {
        const again = Array.from({ length: 16 }, (_, i): [string, string, number] => [join(dir, 'cut-again'), `again${i}`, 20]);
        expect(await client.runBatch('recordAndWork', again)).toEqual(again.map(([, label]) => label));
        const jobs = await withQueue(redis.url, queue, (inspected) => inspected.getJobs(['completed'], 0, 10_000));
        return jobs.some((job) => job.processedBy === nodeA.name && job.finishedOn! > reconnectedAt);
      }, 60_000);
    } finally {
      await client.close();
    }
  });

  it('a host killed: its chunks run again on the other host', async () => {
    const {
      queue,
      hosts: [, b],
      client,
    } = await cluster('kill');
    const file = join(dir, 'kill');
    try {
      const { labels, outcomes } = startBatch(client, file);
      await ran(file, CALLS / 4);
      hosts.kill(b);
      const { stalledChunks } = await account(queue, file, labels, await outcomes);
      expect(stalledChunks).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('Redis killed and restarted from its append-only file: the batch completes', async () => {
    const { queue, client } = await cluster('aof');
    const file = join(dir, 'aof');
    try {
      const { labels, outcomes } = startBatch(client, file);
      await ran(file, CALLS / 4);
      await redis.restart();
      await account(queue, file, labels, await outcomes);
    } finally {
      await client.close();
    }
  });
});
