/**
 * Cancelling jobs whose caller aborted, with what BullMQ offers: a job not yet taken is removed
 * from the queue (an atomic script: either it is removed, or a node had already taken it); a job
 * already running can be stopped only by the BullMQ worker that holds it (`Worker.cancelJob`,
 * which aborts the signal its processor received), so the client asks every node over Redis
 * pub/sub and the one holding the job aborts its pool call.
 */
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobArgs } from './job-args.js';
import type { CancelRequest, TaskJobData } from './jobs.js';

/** Ids per published request, so that a huge batch's cancel is not one huge message. */
const IDS_PER_REQUEST = 1000;

/**
 * Client side: removes the jobs still waiting, with their packed arguments, and asks the nodes to
 * stop the others. A job that finished meanwhile is removed too (its record goes; its caller no
 * longer wants it).
 */
export async function withdrawJobs(
  queue: Queue<TaskJobData>,
  args: JobArgs,
  publisher: Redis,
  channel: string,
  ids: string[],
  reason: string,
): Promise<void> {
  const removed = await Promise.all(ids.map((id) => queue.remove(id)));
  const running = ids.filter((_, index) => removed[index] === 0);
  for (let start = 0; start < running.length; start += IDS_PER_REQUEST) {
    const request: CancelRequest = { ids: running.slice(start, start + IDS_PER_REQUEST), reason };
    await publisher.publish(channel, JSON.stringify(request));
  }
  // After the cancel requests, which running tasks wait for; nothing waits for this.
  await args.delete(ids.filter((_, index) => removed[index] === 1));
}

/** How long a node remembers a cancel request for a job it did not hold (yet). */
const REMEMBERED_MS = 60_000;

/**
 * Node side: receives cancel requests and stops the jobs this node runs. A request can arrive
 * between the moment Redis hands a job to this node and the moment its processor starts (when
 * BullMQ has no signal to abort yet), so requests for jobs not held here are remembered for a
 * minute and checked when a job starts.
 */
export class CancelListener {
  /** Ids of cancelled jobs this node did not hold when asked, with when it was asked. */
  private readonly remembered = new Map<string, number>();

  private constructor() {}

  /** Subscribes `subscriber` (a connection of its own: a subscribed connection does nothing else). */
  static async listen(
    subscriber: Redis,
    channel: string,
    worker: Worker<TaskJobData>,
    onError: (error: Error) => void,
  ): Promise<CancelListener> {
    const listener = new CancelListener();
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      try {
        listener.cancel(JSON.parse(message) as CancelRequest, worker);
      } catch (error) {
        onError(new Error(`viscose: unreadable cancel request on ${channel}: ${message.slice(0, 200)}`, { cause: error }));
      }
    });
    await subscriber.subscribe(channel);
    return listener;
  }

  /** Whether job `id` was cancelled before this node started it. */
  wasCancelled(id: string): boolean {
    return this.remembered.has(id);
  }

  private cancel({ ids, reason }: CancelRequest, worker: Worker<TaskJobData>): void {
    const now = Date.now();
    for (const [id, askedAt] of this.remembered) {
      if (now - askedAt > REMEMBERED_MS) this.remembered.delete(id);
    }
    for (const id of ids) {
      if (!worker.cancelJob(id, reason)) this.remembered.set(id, now);
    }
  }
}
