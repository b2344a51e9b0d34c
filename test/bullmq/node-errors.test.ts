// A queue node reports what goes wrong on its connections as its pool's own failures: to the
// pool's `error` listeners and its onError, as any failure nobody awaits.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ThreadPool } from 'viscose';
import { serveQueue } from 'viscose/bullmq';
import { cancelChannel } from '../../src/bullmq/jobs.js';
import { startRedis } from '../support/redis.mjs';
import { waitFor } from '../support/wait-for.js';

/** Without redis-server these tests skip (test/support/services.ts says so once). */
const hasRedis = inject('services').redis;

describe.skipIf(!hasRedis)("a queue node's failures", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it("reach the pool's error listeners and its onError", async () => {
    const handed: Error[] = [];
    const pool = await ThreadPool.create({
      module: new URL('../fixtures/cluster-tasks.mjs', import.meta.url),
      threads: 1,
      onError: (error) => handed.push(error),
    });
    const heard: Error[] = [];
    pool.on('error', (error) => heard.push(error));
    const node = await serveQueue(pool, { queue: 'node-errors', redis: redis.url });
    const publisher = new Redis(redis.url);
    try {
      await publisher.publish(cancelChannel('node-errors'), 'not json');
      await waitFor(() => heard.length === 1 && handed.length === 1);
      expect(heard[0].message).toMatch(/unreadable cancel request on bull:node-errors:viscose-cancel: not json/);
      expect(handed[0]).toBe(heard[0]);
    } finally {
      publisher.disconnect();
      await node.close();
      await pool.close();
    }
  });
});
