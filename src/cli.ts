#!/usr/bin/env node
/**
 * The `viscose` command. `viscose worker --module ./tasks.js --queue NAME --redis URL [--threads N]`
 * starts a node of a cluster (viscose/bullmq): a pool over the task module serving the queue, until
 * SIGTERM or SIGINT, on which it stops taking jobs, finishes the ones in hand and exits. bullmq and
 * ioredis are optional peer dependencies, so the cluster code is loaded only when a worker starts.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ThreadPool } from './pool/thread-pool.js';
import { messageOf } from './errors.js';

const USAGE = `usage: viscose worker --module <task module> --queue <name> --redis <url> [--threads <n>]
                      [--concurrency <jobs>|auto] [--lock-duration <ms>] [--stalled-interval <ms>]
                      [--prefix <BullMQ key prefix>] [--metrics] [--connect-timeout <ms>]
                      [--start-timeout <ms>]`;

/** Per-minute data points BullMQ keeps with --metrics: two weeks. */
const METRICS_DATA_POINTS = 2 * 7 * 24 * 60;

async function worker(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      help: { type: 'boolean', short: 'h' },
      module: { type: 'string' },
      queue: { type: 'string' },
      redis: { type: 'string' },
      threads: { type: 'string' },
      concurrency: { type: 'string' },
      'lock-duration': { type: 'string' },
      'stalled-interval': { type: 'string' },
      prefix: { type: 'string' },
      metrics: { type: 'boolean' },
      'connect-timeout': { type: 'string' },
      'start-timeout': { type: 'string' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  if (values.module === undefined || values.queue === undefined || values.redis === undefined) throw new Error(USAGE);
  const { serveQueue } = await loadQueueNode();
  const module = isAbsolute(values.module) ? values.module : resolve(process.cwd(), values.module);
  const concurrency = values.concurrency === 'auto' ? 'auto' : optionalNumber('concurrency', values.concurrency);
  const lockDuration = optionalNumber('lock-duration', values['lock-duration']);
  const stalledInterval = optionalNumber('stalled-interval', values['stalled-interval']);
  const connectTimeout = optionalNumber('connect-timeout', values['connect-timeout']);
  const startTimeout = optionalNumber('start-timeout', values['start-timeout']);
  const pool = await ThreadPool.create({
    module: pathToFileURL(module),
    threads: optionalNumber('threads', values.threads),
    ...(startTimeout === undefined ? {} : { startTimeout }),
  });
  const node = await serveQueue(pool, {
    queue: values.queue,
    redis: values.redis,
    concurrency,
    connectTimeout,
    // Only what was given: BullMQ rejects an option present but undefined.
    worker: {
      ...(lockDuration === undefined ? {} : { lockDuration }),
      ...(stalledInterval === undefined ? {} : { stalledInterval }),
      ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
      // Completed and failed jobs per minute, read with Queue.getMetrics.
      ...(values.metrics === true ? { metrics: { maxDataPoints: METRICS_DATA_POINTS } } : {}),
    },
  }).catch(async (error: unknown) => {
    await pool.close(); // or its threads would keep the process alive
    throw error;
  });
  console.log(`viscose worker ${node.name}: serving queue ${values.queue} with ${pool.settings.threads} threads`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: finishing the jobs in hand`);
      node
        .close()
        .then(() => pool.close())
        .then(
          () => console.log('stopped'),
          (error: unknown) => {
            console.error(`stopping failed: ${messageOf(error)}`);
            process.exitCode = 1;
          },
        );
    });
  }
}

/** The cluster node's code, which imports bullmq and ioredis; when they are missing, says how to get them. */
async function loadQueueNode(): Promise<typeof import('./bullmq/node.js')> {
  try {
    return await import('./bullmq/node.js');
  } catch (error) {
    if (isMissingPeer(error)) throw new Error('viscose worker needs bullmq and ioredis: npm install bullmq ioredis');
    throw error;
  }
}

function isMissingPeer(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /\b(bullmq|ioredis)\b/.test(error.message);
}

function optionalNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return number;
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'worker') await worker(rest);
  else if (command === '--help' || command === '-h' || command === 'help') console.log(USAGE);
  else throw new Error(USAGE);
} catch (error) {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  console.error(`${messageOf(error)}${cause}`);
  process.exitCode = 2;
}
