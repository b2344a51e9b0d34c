/**
 * The Redis connections of clients and nodes: opened and awaited before any BullMQ object uses
 * them, and ended after BullMQ's close even when Redis cannot be reached.
 */
import { Redis } from 'ioredis';
import { type Timer, startTimer } from '../time/timer.js';

/** Where the queue's Redis is, and how long to wait for it at start. */
export interface RedisLocation {
  /** A URL: `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  redis: string;
  /** Milliseconds to wait for Redis when connecting before giving up with an error. Default 10,000; `Infinity` waits as long as it takes. */
  connectTimeout?: number;
}

/**
 * Opens one Redis connection per entry of `blocking`, each for one BullMQ object (workers and queue
 * events block on theirs), and resolves once all are ready. Blocking connections retry commands
 * forever (`maxRetriesPerRequest: null`, as BullMQ requires); the others keep ioredis's limit, so
 * that a call made while Redis is unreachable fails (after ioredis's 20 reconnection attempts)
 * rather than waits forever.
 *
 * If Redis has not answered within the location's `connectTimeout`, the connections are dropped and
 * the promise rejects with the last connection error as the cause. Connections are opened before
 * any BullMQ object exists, so that nothing is left retrying after such a failure.
 */
export async function openConnections({ redis, connectTimeout }: Required<RedisLocation>, blocking: boolean[]): Promise<Redis[]> {
  const connections = blocking.map((blocks) => (blocks ? new Redis(redis, { maxRetriesPerRequest: null }) : new Redis(redis)));
  // Kept for the failure's cause, not reported one by one: ioredis reports every reconnection attempt.
  let lastError: Error | undefined;
  const record = (error: Error) => (lastError = error);
  for (const connection of connections) connection.on('error', record);
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const message = `could not reach Redis at ${withoutPassword(redis)} within ${connectTimeout} ms`;
    timer = startTimer(connectTimeout, () => reject(new Error(message, { cause: lastError })));
  });
  try {
    // Not events.once: it would give up at the first error, and ioredis retries after errors.
    const ready = connections.map((connection) => new Promise((resolve) => connection.once('ready', resolve)));
    await Promise.race([Promise.all(ready), timeout]);
    return connections;
  } catch (error) {
    for (const connection of connections) connection.disconnect();
    throw error;
  } finally {
    timer?.cancel();
    // From here on each connection's BullMQ object listens to its errors.
    for (const connection of connections) connection.off('error', record);
  }
}

function withoutPassword(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** How long a close waits once Redis is unreachable: enough for a blip, short enough for a supervisor's stop. */
const GRACE_WITHOUT_REDIS_MS = 3_000;

/**
 * Runs `close` (BullMQ's close of the objects over `connections`), then ends the connections.
 * BullMQ's close waits for its connections to end, which never happens while ioredis waits between
 * two attempts to reach a Redis that is gone. So `close` is told whether every connection is up;
 * and if one is lost while it runs, it is given up after a grace and the connections are dropped.
 */
export async function closeOver(connections: Redis[], close: (reachable: boolean) => Promise<unknown>): Promise<void> {
  let grace: NodeJS.Timeout | undefined;
  let giveUp!: () => void;
  const lost = new Promise<void>((resolve) => {
    giveUp = () => {
      grace ??= setTimeout(resolve, GRACE_WITHOUT_REDIS_MS);
    };
  });
  const reachable = connections.every((connection) => connection.status === 'ready');
  for (const connection of connections) {
    // Expected while closing, and BullMQ stops listening to them as it closes.
    connection.on('error', ignoreError);
    if (connection.status === 'ready') connection.once('close', giveUp);
    else giveUp();
  }
  try {
    await Promise.race([close(reachable), lost]);
  } finally {
    clearTimeout(grace);
    for (const connection of connections) connection.off('close', giveUp);
    // quit() would wait for a reply from a server that is not there.
    await Promise.allSettled(
      connections.map((connection) => (connection.status === 'ready' ? connection.quit() : connection.disconnect())),
    );
  }
}

function ignoreError(): void {}
