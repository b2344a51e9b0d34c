// The cancel requests of viscose/bullmq over a real Redis: what a client publishes for jobs it
// could not remove, and what a node does with a request for a job it holds, or does not hold yet.
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { CancelListener, withdrawJobs } from '../../src/bullmq/cancellation.js';
import { JobArgs } from '../../src/bullmq/job-args.js';
import { type CancelRequest, type TaskJobData, cancelChannel } from '../../src/bullmq/jobs.js';
import { packCalls } from '../../src/bullmq/packing.js';
import { startRedis } from '../support/redis.mjs';
import { waitFor } from '../support/wait-for.js';

/** Without redis-server these tests skip (test/support/services.ts says so once). */
const hasRedis = inject('services').redis;

describe.skipIf(!hasRedis)('cancel requests', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const connections: Redis[] = [];
  const connect = () => {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.quit()));
    await redis?.stop();
  });

  /** A stand-in for BullMQ's Worker: it holds the jobs in `held`, and records what it was asked to cancel. */
  function fakeWorker(held: string[]) {
    const cancelled: [string, string | undefined][] = [];
    const worker = {
      cancelJob(id: string, reason?: string) {
        cancelled.push([id, reason]);
        return held.includes(id);
      },
    } as unknown as Worker<TaskJobData>;
    return { worker, cancelled };
  }

  it('aborts the jobs a node holds and remembers the others, for a minute', async () => {
    const channel = cancelChannel('q1');
    const { worker, cancelled } = fakeWorker(['held']);
    const errors: Error[] = [];
    const listener = await CancelListener.listen(connect(), channel, worker, (error) => errors.push(error));
    const request: CancelRequest = { ids: ['held', 'not-yet'], reason: 'user left' };
    await connect().publish(channel, JSON.stringify(request));
    await waitFor(() => cancelled.length === 2);
    expect(cancelled).toEqual([
      ['held', 'user left'],
      ['not-yet', 'user left'],
    ]);
    expect(listener.wasCancelled('held')).toBe(false);
    expect(listener.wasCancelled('not-yet')).toBe(true);
    // A minute later, the next request forgets it.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      await connect().publish(channel, JSON.stringify({ ids: ['other'], reason: 'x' }));
      await waitFor(() => cancelled.length === 3);
      expect(listener.wasCancelled('not-yet')).toBe(false);
      expect(listener.wasCancelled('other')).toBe(true);
    } finally {
      clock.mockRestore();
    }
    // An unreadable request is reported, and the listener goes on.
    await connect().publish(channel, 'not json');
    await waitFor(() => errors.length === 1);
    expect(errors[0].message).toMatch(/unreadable cancel request on bull:q1:viscose-cancel: not json/);
  });

  it('removes waiting jobs with their packed arguments and publishes only the ids it could not remove', async () => {
    const connection = connect();
    const queue = new Queue<TaskJobData>('q2', { connection });
    const args = new JobArgs(connection, 'q2');
    try {
      const chunk = packCalls([[1, 2]])!;
      await args.write([
        ['waiting-1', chunk],
        ['running', chunk],
      ]);
      await queue.add('add', { task: 'add', packedCalls: 1 }, { jobId: 'waiting-1' });
      await queue.add('add', { task: 'add', args: [1, 2] }, { jobId: 'waiting-2' });
      // A job a worker holds: its lock key makes BullMQ refuse to remove it.
      await queue.add('add', { task: 'add', packedCalls: 1 }, { jobId: 'running' });
      await connection.set(`bull:q2:running:lock`, 'another-worker');
      const subscriber = connect();
      const heard: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => heard.push(message));
      await subscriber.subscribe(cancelChannel('q2'));
      await withdrawJobs(queue, args, connect(), cancelChannel('q2'), ['waiting-1', 'waiting-2', 'running'], 'changed my mind');
      expect(await queue.getJob('waiting-1')).toBeUndefined();
      expect(await queue.getJob('waiting-2')).toBeUndefined();
      expect(await queue.getJob('running')).toBeDefined();
      // The running job's node still needs its arguments.
      expect(await args.read('waiting-1')).toBeNull();
      expect(await args.read('running')).toEqual(chunk);
      await waitFor(() => heard.length === 1);
      expect(JSON.parse(heard[0])).toEqual({ ids: ['running'], reason: 'changed my mind' });
    } finally {
      await queue.close();
    }
  });
});
