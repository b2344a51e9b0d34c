/**
 * The options tables of the cluster's client, its calls and its nodes. Their prose is the TSDoc of
 * the interfaces (client.ts, node.ts, connections.ts); the call options share the pool's entries.
 */
import type { JobsOptions, QueueOptions } from 'bullmq';
import { InvalidOptionError } from '../errors.js';
import type { OptionTable } from '../options/table.js';
import { countOrInfinity, describe, errorHandler, nonEmptyString, optionalObject, positiveMilliseconds } from '../options/validators.js';
import { PRIORITY_OPTION, SIGNAL_OPTION } from '../pool/call-options.js';
import type { ClusterCallOptions, ClusterClientOptions } from './client.js';
import { LARGEST_CHUNK } from './chunk-size.js';
import type { RedisLocation } from './connections.js';
import type { QueueNodeOptions } from './node.js';

const REDIS_OPTIONS = {
  redis: { validate: nonEmptyString },
  connectTimeout: { validate: positiveMilliseconds, default: 10_000 },
} as const satisfies OptionTable<RedisLocation>;

export const CLIENT_OPTIONS = {
  ...REDIS_OPTIONS,
  queue: { validate: nonEmptyString },
  jobOptions: {
    validate: jobOptions,
    defaultDoc: 'completed jobs removed once their result is read (else after an hour), failed ones after a day',
  },
  queueOptions: { validate: optionalObject<Omit<QueueOptions, 'connection'>>('an object of BullMQ queue options'), defaultDoc: "BullMQ's" },
  resultCheckInterval: { validate: finiteMilliseconds, default: 15_000 },
  onError: { validate: errorHandler, defaultDoc: 'a process warning' },
  maxQueue: { validate: countOrInfinity, default: Infinity, defaultDoc: '`Infinity`' },
  chunkSize: { validate: chunkSize, default: 'auto', defaultDoc: "`'auto'`" },
} as const satisfies OptionTable<ClusterClientOptions>;

export const CLUSTER_CALL_OPTIONS = {
  priority: PRIORITY_OPTION,
  signal: SIGNAL_OPTION,
  job: { validate: jobOptions, defaultDoc: "the client's `jobOptions`" },
} as const satisfies OptionTable<ClusterCallOptions>;

export const NODE_OPTIONS = {
  ...REDIS_OPTIONS,
  queue: { validate: nonEmptyString },
  concurrency: { validate: concurrency, default: 'auto', defaultDoc: "`'auto'`" },
  worker: { validate: optionalObject<QueueNodeOptions['worker']>('an object of BullMQ worker options'), defaultDoc: "BullMQ's" },
} as const satisfies OptionTable<QueueNodeOptions>;

/** BullMQ job options without the two the client owns. */
function jobOptions(option: string, value: unknown): Omit<JobsOptions, 'priority' | 'jobId'> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new InvalidOptionError(option, 'expected an object of BullMQ job options');
  for (const key of ['priority', 'jobId']) {
    if (key in value) {
      const instead = key === 'priority' ? "set a call's priority with client.with({ priority })" : 'the client names its jobs';
      throw new InvalidOptionError(`${option}.${key}`, instead);
    }
  }
  return value;
}

function chunkSize(option: string, value: unknown): number | 'auto' {
  if (value === 'auto') return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > LARGEST_CHUNK) {
    throw new InvalidOptionError(option, `expected 'auto' or a whole number of calls from 1 to ${LARGEST_CHUNK}, got ${describe(value)}`);
  }
  return value;
}

function concurrency(option: string, value: unknown): number | 'auto' {
  if (value === 'auto' || (typeof value === 'number' && Number.isInteger(value) && value >= 1)) return value;
  throw new InvalidOptionError(option, `expected 'auto' or a whole number of jobs from 1, got ${describe(value)}`);
}

function finiteMilliseconds(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, `expected a positive number of milliseconds, got ${describe(value)}`);
  }
  return value;
}
