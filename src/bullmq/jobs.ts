/**
 * What a job of a viscose queue holds and how its failure is described: shared by the nodes that
 * run jobs and the clients that add them. BullMQ stores a job's data and its return value as JSON,
 * so a task's arguments and result must survive `JSON.stringify` (a local pool takes more: see the
 * README's *Scale-out*).
 */
import { Redis } from 'ioredis';
import { InvalidOptionError } from '../errors.js';
import type { Priority } from '../queue/priority.js';

/** The data of one job: a task of the module and its arguments. */
export interface TaskJobData {
  task: string;
  args: unknown[];
}

/** A failed task's error as the node saw it, recorded in the job's log (BullMQ keeps the message and the stack). */
export interface RemoteErrorDetails {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  /** The node (host and process id) whose pool ran the task. */
  node: string;
}

/** The job log line that carries RemoteErrorDetails: this prefix, then JSON. */
export const ERROR_LOG_PREFIX = 'viscose-error ';

/** Where the queue's Redis is, and how long to wait for it at start. */
export interface RedisLocation {
  /** A URL: `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  redis: string;
  /** Milliseconds to wait for Redis when connecting before giving up with an error. Default 10,000. */
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
export async function openConnections({ redis, connectTimeout = 10_000 }: RedisLocation, blocking: boolean[]): Promise<Redis[]> {
  if (!Number.isFinite(connectTimeout) || connectTimeout <= 0) {
    throw new InvalidOptionError('connectTimeout', `expected a positive number of milliseconds, got ${String(connectTimeout)}`);
  }
  const connections = blocking.map((blocks) => (blocks ? new Redis(redis, { maxRetriesPerRequest: null }) : new Redis(redis)));
  // Kept for the failure's cause, not reported one by one: ioredis reports every reconnection attempt.
  let lastError: Error | undefined;
  const record = (error: Error) => (lastError = error);
  for (const connection of connections) connection.on('error', record);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const message = `could not reach Redis at ${withoutPassword(redis)} within ${connectTimeout} ms`;
    timer = setTimeout(() => reject(new Error(message, { cause: lastError })), connectTimeout);
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
    clearTimeout(timer);
    // From here on each connection's BullMQ object listens to its errors.
    for (const connection of connections) connection.off('error', record);
  }
}

function withoutPassword(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/**
 * The BullMQ priority of each call priority (1 is BullMQ's most urgent). Every job gets one: BullMQ
 * takes jobs without a priority before all prioritized ones, so a `normal` call left without one
 * would pass every `high` call. Within a priority BullMQ keeps the order in which jobs were added.
 */
export const JOB_PRIORITY: Readonly<Record<Priority, number>> = { high: 1, normal: 2, low: 3 };

/**
 * The pool priority a node runs a job at, so that among the jobs it holds the more urgent are
 * taken first. Jobs added by other producers may carry any BullMQ priority: none counts as normal,
 * anything less urgent than normal as low.
 */
export function poolPriorityOf(jobPriority: number | undefined): Priority {
  if (jobPriority === JOB_PRIORITY.high) return 'high';
  if (jobPriority === undefined || jobPriority === 0 || jobPriority === JOB_PRIORITY.normal) return 'normal';
  return 'low';
}

/**
 * A client's request to stop jobs that a node is running, published on the queue's
 * {@link cancelChannel} (Redis pub/sub: BullMQ can stop a running job only from the worker that
 * holds it, and its own event stream would be trimmed by publishing into it).
 */
export interface CancelRequest {
  ids: string[];
  reason: string;
}

/** The pub/sub channel of a queue's cancel requests. */
export function cancelChannel(queue: string, prefix = 'bull'): string {
  return `${prefix}:${queue}:viscose-cancel`;
}
