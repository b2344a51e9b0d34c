// What gathering `run` calls into chunks costs a lone call and buys a burst, on one machine: a
// Redis on loopback, one node of 2 threads, a client. `node bench/probes/cluster-coalescing.mjs
// [repository]` uses the given checkout's dist/ (default: this one), so that two versions can be
// run side by side: 300 sequential `run` calls (median and p90 latency, after 200 to warm up), then
// 10,000 `run` calls made in one turn (time until all have settled; every result checked).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRedis } from '../../test/support/redis.mjs';

const repo = resolve(process.argv[2] ?? fileURLToPath(new URL('../..', import.meta.url)));
const { ClusterClient } = await import(pathToFileURL(`${repo}/dist/bullmq.js`).href);
const MODULE = fileURLToPath(new URL('../workers/viscose-tasks.mjs', import.meta.url));
const redis = await startRedis();
const node = spawn(
  process.execPath,
  [`${repo}/dist/cli.js`, 'worker', '--module', MODULE, '--queue', 'q', '--redis', redis.url, '--threads', '2'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await new Promise((ready) => node.stdout.on('data', (data) => String(data).includes('serving') && ready()));
const client = await ClusterClient.connect({ queue: 'q', redis: redis.url });
const request = (i) => ({ id: i, msg: `m${i}` });
for (let i = 0; i < 200; i++) await client.run('trivial', request(i));
const latencies = [];
for (let i = 0; i < 300; i++) {
  const start = performance.now();
  await client.run('trivial', request(i));
  latencies.push(performance.now() - start);
}
latencies.sort((a, b) => a - b);
await Promise.all(Array.from({ length: 2000 }, (_, i) => client.run('trivial', request(i))));
const start = performance.now();
const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => client.run('trivial', request(i))));
const burstMs = performance.now() - start;
if (results.some((result, i) => result.id !== i)) throw new Error('a call returned another call’s result');
console.log(
  JSON.stringify({ repo, loneMedianMs: latencies[150].toFixed(3), loneP90Ms: latencies[270].toFixed(3), burst10kMs: burstMs.toFixed(0) }),
);
await client.close();
node.kill('SIGTERM');
await new Promise((exited) => node.on('exit', exited));
await redis.stop();
