/**
 * `viscose/bullmq`: the same task module on many machines, over a BullMQ queue in Redis. Nodes
 * serve the queue with a local pool (`serveQueue`); clients call it like a pool
 * (`ClusterClient.connect(...).run(name, ...args)`). Needs the `bullmq` and `ioredis` packages.
 */
export { ClusterClient } from './bullmq/client.js';
export { ClusterClientClosedError } from './errors.js';
export type { ClusterCallOptions, ClusterCalls, ClusterClientOptions } from './bullmq/client.js';
export { serveQueue } from './bullmq/node.js';
export type { QueueNode, QueueNodeOptions } from './bullmq/node.js';
export type { RemoteErrorDetails } from './bullmq/jobs.js';
