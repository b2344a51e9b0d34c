// A node with `concurrency: 'auto'` (the default) takes more jobs at once when a job's pool time
// is short against its round trip to Redis, and keeps twice its threads for jobs longer than the
// trip. Redis sits behind a proxy that delays each direction by 10 ms.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ThreadPool } from 'viscose';
import { ClusterClient, serveQueue } from 'viscose/bullmq';
import type * as Tasks from '../fixtures/cluster-tasks.mjs';
import { withQueue } from '../support/cluster-node.js';
import { DelayProxy, delayProxyCommand } from '../support/hosts/delay-proxy.mjs';
import { startRedis } from '../support/redis.mjs';

/** Without redis-server or a C compiler these tests skip (test/support/services.ts says so once). */
const hasServices = inject('services').redis && inject('services').delayProxy;
const TASKS = new URL('../fixtures/cluster-tasks.mjs', import.meta.url);
const DELAY_MS = 10;

/** Starts the delaying proxy in front of Redis on loopback; resolves with its URL. */
async function startProxy(redisPort: number): Promise<{ url: string; proxy: DelayProxy }> {
  const how = { listenAddress: '127.0.0.1', targetAddress: '127.0.0.1', targetPort: redisPort, delayMs: DELAY_MS };
  const { command, args } = delayProxyCommand(how);
  const proxy = await DelayProxy.started(spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] }));
  return { url: `redis://127.0.0.1:${proxy.port}`, proxy };
}

describe.skipIf(!hasServices)("a node's jobs at once, 10 ms from Redis", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let pool: ThreadPool;
  let queues = 0;

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startProxy(redis.port);
    pool = await ThreadPool.create({ module: TASKS, threads: 1 });
  });

  afterAll(async () => {
    await pool?.close();
    proxy?.proxy.child.kill();
    await redis?.stop();
  });

  /** A node of the pool behind the proxy, a client beside Redis, and the most jobs seen active at once. */
  async function serve(concurrency: number | 'auto' | undefined, body: (client: ClusterClient<typeof Tasks>) => Promise<void>) {
    const queue = `auto-concurrency-${++queues}`;
    const node = await serveQueue(pool, { queue, redis: proxy.url, ...(concurrency === undefined ? {} : { concurrency }) });
    const client = await ClusterClient.connect<typeof Tasks>({ queue, redis: redis.url, chunkSize: 10 });
    let mostActive = 0;
    try {
      const before = node.concurrency;
      await withQueue(redis.url, queue, async (inspected) => {
        let running = true;
        const sampling = (async () => {
          while (running) mostActive = Math.max(mostActive, await inspected.getActiveCount());
        })();
        try {
          await body(client);
        } finally {
          running = false;
          await sampling;
        }
      });
      return { before, after: node.concurrency, mostActive };
    } finally {
      await client.close();
      await node.close();
    }
  }

  const trivialBatch = async (client: ClusterClient<typeof Tasks>) => {
    const sums = await client.runBatch(
      'add',
      Array.from({ length: 3_000 }, (_, i): [number, number] => [i, 1]),
    );
    expect(sums).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
  };

  it('holds up to eight jobs per thread when chunks run in far less than a trip', async () => {
    const { before, after, mostActive } = await serve(undefined, trivialBatch);
    expect(before).toBe(2);
    expect(after).toBe(8);
    // BullMQ took that many: a job stays active in Redis until its result is recorded.
    expect(mostActive).toBeGreaterThan(2);
  });

  it('keeps two per thread for jobs longer than a trip', async () => {
    const { after, mostActive } = await serve('auto', async (client) => {
      await trivialBatch(client); // first raised,
      // then each chunk of ten 15 ms calls keeps the thread 150 ms against a trip of about 20.
      const spins = await client.runBatch(
        'spin',
        Array.from({ length: 120 }, (): [number] => [15]),
      );
      expect(spins).toHaveLength(120);
    });
    expect(mostActive).toBeGreaterThan(2);
    expect(after).toBe(2);
  });

  it('keeps a number it is given', async () => {
    const { before, after, mostActive } = await serve(3, trivialBatch);
    expect([before, after]).toEqual([3, 3]);
    expect(mostActive).toBeLessThanOrEqual(3);
  });
});
