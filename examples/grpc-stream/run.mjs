// `npm run example:grpc`: starts the example server on loopback in a child process, first with the
// work done inline on its event loop, then through viscose's ParallelProcessor, drives each with the
// same load (load.mjs), stops it with SIGTERM (a graceful shutdown), and prints requests/s and
// latency percentiles side by side.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { drive } from './load.mjs';

const STREAMS = 8;
const REQUESTS_PER_STREAM = Number(process.env.GRPC_EXAMPLE_REQUESTS ?? 100);
const IN_FLIGHT = 4;
const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));

async function startServerProcess(mode) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', '--mode', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  // Read all of it, to the end: the server reports its shutdown there too.
  const listening = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (\S+)/.exec(output);
      if (match !== null) resolve(match[1]);
    });
    child.once('exit', () => reject(new Error(`the ${mode} server exited before listening: ${output}`)));
  });
  return { child, address: await listening, output: () => output };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const rows = [];
for (const mode of ['inline', 'viscose']) {
  const server = await startServerProcess(mode);
  // A short warm-up (JIT, workers), then the measured run.
  await drive({ address: server.address, streams: 2, requestsPerStream: 50, inFlight: IN_FLIGHT, verifyEvery: 10 });
  const run = await drive({
    address: server.address,
    streams: STREAMS,
    requestsPerStream: REQUESTS_PER_STREAM,
    inFlight: IN_FLIGHT,
    verifyEvery: 10,
  });
  server.child.kill('SIGTERM');
  const [code] = await once(server.child, 'exit');
  const sorted = Float64Array.from(run.latencies).sort();
  rows.push({
    mode,
    requests: run.requests,
    perSecond: (run.requests / run.wallMs) * 1000,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    mismatches: run.mismatches.length,
    shutdown: code === 0 && server.output().includes('stopped') ? 'graceful' : `exit code ${code}`,
  });
  for (const mismatch of run.mismatches.slice(0, 5)) console.error(`${mode}: ${mismatch}`);
}

console.log(
  `\n${STREAMS} streams × ${REQUESTS_PER_STREAM} requests, ${IN_FLIGHT} in flight per stream; 85 % hash (about 3 ms of CPU each), 10 % echo, 5 % failing; ${availableParallelism()} CPUs, the load generator on the same machine\n`,
);
console.log('| server | requests | requests/s | p50 ms | p90 ms | p99 ms | max ms | wrong responses | shutdown |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
for (const row of rows) {
  console.log(
    `| ${row.mode === 'inline' ? 'work inline on the event loop' : 'viscose ParallelProcessor'} | ${row.requests} | ${row.perSecond.toFixed(0)} | ${row.p50.toFixed(2)} | ${row.p90.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.max.toFixed(2)} | ${row.mismatches} | ${row.shutdown} |`,
  );
}
if (rows.some((row) => row.mismatches > 0 || row.shutdown !== 'graceful')) process.exitCode = 1;
