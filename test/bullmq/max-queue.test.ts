// The cluster client's maxQueue against a real Redis: with no node serving the queue every call
// waits, so the calls past the limit are refused at once, a batch whole; a call that settles (here
// by an abort) or starts on a node makes room again.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AbortError, InvalidOptionError, QueueFullError } from 'viscose';
import { ClusterClient } from 'viscose/bullmq';
import type * as Tasks from '../fixtures/cluster-tasks.mjs';
import { type NodeProcess, startNode } from '../support/cluster-node.js';
import { startRedis } from '../support/redis.mjs';
import { rejection } from '../support/rejection.js';

/** Without redis-server these tests skip (test/support/services.ts says so once). */
const hasRedis = inject('services').redis;

const QUEUE = 'viscose-max-queue';

describe.skipIf(!hasRedis)("the cluster client's maxQueue", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let node: NodeProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    node?.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('refuses calls past the limit at once, whatever their priority, and takes calls again once some have left the queue', async () => {
    const client = await ClusterClient.connect<typeof Tasks>({ queue: QUEUE, redis: redis.url, maxQueue: 3 });
    try {
      const controller = new AbortController();
      const aborted = client.with({ signal: controller.signal }).run('add', 1, 1);
      const waiting = [client.run('add', 2, 2), client.with({ priority: 'low' }).run('add', 3, 3)];
      const refused = await rejection(client.with({ priority: 'high' }).run('add', 4, 4));
      expect(refused).toBeInstanceOf(QueueFullError);
      expect(refused).toMatchObject({ code: 'VISCOSE_QUEUE_FULL', maxQueue: 3 });
      controller.abort();
      expect(await rejection(aborted)).toBeInstanceOf(AbortError);
      // One place is free again: a batch of two does not fit, a batch of one does.
      expect(
        await rejection(
          client.runBatch('add', [
            [5, 5],
            [6, 6],
          ]),
        ),
      ).toBeInstanceOf(QueueFullError);
      const batch = client.runBatch('add', [[7, 7]]);
      expect(await rejection(client.run('add', 8, 8))).toBeInstanceOf(QueueFullError);
      // A node takes the waiting jobs: they all complete, and the client takes calls again.
      node = startNode(redis.url, { queue: QUEUE });
      await node.serving();
      expect(await Promise.all([...waiting, batch])).toEqual([4, 6, [14]]);
      expect(await client.run('add', 9, 9)).toBe(18);
    } finally {
      await client.close();
    }
  });

  it('is checked', async () => {
    const error = await rejection(ClusterClient.connect({ queue: QUEUE, redis: redis.url, maxQueue: -1 }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(/maxQueue/);
  });
});
