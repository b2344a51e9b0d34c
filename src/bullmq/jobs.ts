/**
 * What a job of a viscose queue holds and how its failure is described: shared by the nodes that
 * run jobs and the clients that add them. BullMQ stores a job's data and its return value as JSON,
 * so a task's arguments and result must survive `JSON.stringify` (a local pool takes more: see the
 * README's *Scale-out*).
 */
import { Redis } from 'ioredis';

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

/** Where the queue's Redis is: a URL (`redis://host:port/db`). */
export interface RedisLocation {
  redis: string;
}

/**
 * A Redis connection for one BullMQ object. Each gets its own: workers and queue events block on
 * theirs. BullMQ requires `maxRetriesPerRequest: null` for those.
 */
export function connectRedis({ redis }: RedisLocation): Redis {
  return new Redis(redis, { maxRetriesPerRequest: null });
}
