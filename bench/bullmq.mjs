// Scale-out over BullMQ against a local pool: `npm run bench:bullmq` (add `-- --quick` for a smoke
// run). One Redis (Debian's redis-server on loopback) and, in turn: a local pool of 2 threads; one
// node (`viscose worker`) of 2 threads; two nodes of 1 thread each — all on this machine, so the
// cluster's figures show what going through Redis costs, not what more machines would add. Each
// round measures every configuration once, in an order that rotates, after a warm-up; every result
// is checked. Redis's memory (INFO memory, used_memory) is read before and after the batch of
// trivial tasks: the difference over the batch is what one finished job's record costs while it is
// kept (a trivial task's arguments and result are a few dozen bytes of JSON). Writes
// bench/results/bullmq.{md,json}.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ThreadPool } from 'viscose';
import { Redis } from 'ioredis';
import { ClusterClient } from 'viscose/bullmq';
import { startRedis } from '../test/support/redis.mjs';
import { calibrate } from './lib/calibrate.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { median } from './lib/stats.mjs';
import { checkTrivialResults, trivialRequests } from './lib/trivial-requests.mjs';
import { cpu } from './lib/tasks.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const TRIVIAL = quick ? 2_000 : 10_000;
const CPU_TASKS = quick ? 50 : 200;
const MODULE = fileURLToPath(new URL('./workers/viscose-tasks.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const log = (message) => process.stderr.write(`${message}\n`);

const unit = calibrate();
const cpuRequests = Array.from({ length: CPU_TASKS }, (_, i) => [{ n: unit, seed: i }]);
const cpuExpected = cpuRequests.map(([request]) => cpu(request));
const trivialArgs = trivialRequests(TRIVIAL).map((request) => [request]);

/**
 * Each configuration: `open(redis, queue)` → `{ runBatch(name, argsList), close() }`, and for a
 * cluster `redisMemory()`: Redis's used_memory in bytes.
 */
const configurations = {
  'local pool, 2 threads': async () => {
    const pool = await ThreadPool.create({ module: MODULE, threads: 2 });
    return { runBatch: (name, argsList) => pool.runBatch(name, argsList), close: () => pool.close() };
  },
  'BullMQ, 1 node × 2 threads': (redis, queue) => cluster(redis, queue, [2]),
  'BullMQ, 2 nodes × 1 thread': (redis, queue) => cluster(redis, queue, [1, 1]),
};

async function cluster(redis, queue, threadsPerNode) {
  const nodes = threadsPerNode.map((threads) =>
    spawn(process.execPath, [CLI, 'worker', '--module', MODULE, '--queue', queue, '--redis', redis, '--threads', String(threads)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  await Promise.all(nodes.map((node) => firstLine(node, 'serving queue')));
  const client = await ClusterClient.connect({ queue, redis });
  const inspector = new Redis(redis);
  return {
    runBatch: (name, argsList) => client.runBatch(name, argsList),
    redisMemory: async () => Number(/used_memory:(\d+)/.exec(await inspector.info('memory'))[1]),
    async close() {
      await client.close();
      await inspector.quit();
      await Promise.all(
        nodes.map((node) => {
          node.kill('SIGTERM');
          return once(node, 'exit');
        }),
      );
    },
  };
}

function firstLine(child, text) {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      if (output.includes(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`a node exited with code ${code}: ${output}`)));
  });
}

async function measure(run) {
  await run.runBatch('trivial', trivialArgs.slice(0, 500)); // warm-up: JIT, connections, workers
  const memoryBefore = await run.redisMemory?.();
  let start = performance.now();
  checkTrivialResults(
    trivialArgs.map(([request]) => request),
    await run.runBatch('trivial', trivialArgs),
  );
  const trivialMs = performance.now() - start;
  const bytesPerRecord = memoryBefore === undefined ? undefined : ((await run.redisMemory()) - memoryBefore) / TRIVIAL;
  start = performance.now();
  const hashes = await run.runBatch('cpu', cpuRequests);
  const cpuMs = performance.now() - start;
  if (hashes.some((hash, i) => hash !== cpuExpected[i])) throw new Error('a cpu task returned a wrong hash');
  return { trivialPerSecond: (TRIVIAL / trivialMs) * 1000, cpuMs, bytesPerRecord };
}

const redis = await startRedis();
const samples = {};
try {
  const names = Object.keys(configurations);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length];
      const run = await configurations[name](redis.url, `bench-${round}-${k}`);
      try {
        samples[name] ??= [];
        samples[name].push(await measure(run));
      } finally {
        await run.close();
      }
      log(`round ${round + 1}/${ROUNDS}: ${name} done`);
    }
  }
} finally {
  await redis.stop();
}

const rows = Object.entries(samples).map(([name, runs]) => ({
  name,
  trivialPerSecond: median(runs.map((run) => run.trivialPerSecond)),
  cpuMs: median(runs.map((run) => run.cpuMs)),
  bytesPerRecord: runs[0].bytesPerRecord === undefined ? undefined : median(runs.map((run) => run.bytesPerRecord)),
}));
const local = rows[0];
const lines = [
  '# Scale-out over BullMQ against a local pool',
  '',
  `${describeEnvironment([]).cpuModel}, Node.js ${process.version}; Redis on loopback, every node and the client on this machine; median of ${ROUNDS} round(s). Method: bench/bullmq.mjs.`,
  '',
  `| configuration | trivial tasks/s (one batch of ${TRIVIAL.toLocaleString('en')}) | cost per trivial task, µs | ${CPU_TASKS} tasks of ${unit.toLocaleString('en')} iterations (~2 ms), ms | overhead per task over the local pool, µs | Redis memory per finished job kept, bytes |`,
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    (row) =>
      `| ${row.name} | ${Math.round(row.trivialPerSecond).toLocaleString('en')} | ${(1e6 / row.trivialPerSecond).toFixed(1)} | ${row.cpuMs.toFixed(0)} | ${row === local ? '—' : (1e6 / row.trivialPerSecond - 1e6 / local.trivialPerSecond).toFixed(1)} | ${row.bytesPerRecord === undefined ? '—' : Math.round(row.bytesPerRecord).toLocaleString('en')} |`,
  ),
  '',
];
const report = lines.join('\n');
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const outputName = quick ? 'bullmq-quick' : 'bullmq';
writeFileSync(new URL(`./results/${outputName}.md`, import.meta.url), report);
writeFileSync(
  new URL(`./results/${outputName}.json`, import.meta.url),
  JSON.stringify({ rounds: ROUNDS, trivial: TRIVIAL, cpuTasks: CPU_TASKS, unit, samples }, null, 1),
);
process.stdout.write(report);
