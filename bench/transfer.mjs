// Handing an ArrayBuffer to a task: 1, 10 and 100 MB, to a task that returns its length, one call
// at a time on a pool of 2 threads. Four ways side by side, in one run:
//   viscose copy      pool.run('length', buffer)            (msgpack copy through shared memory)
//   viscose transfer  pool.run('length', transfer(buffer))  (moved to the worker that takes it)
//   piscina copy      piscina.run(buffer)                   (structured clone)
//   piscina move      piscina.run(Piscina.move(buffer))     (postMessage transfer list)
// Each run gets a fresh buffer, written in full before the clock starts; the time is from the call
// to its result. The four alternate within each round, so drift hits them alike. Reports the
// median and the range (min–max) per size and way; bench/README.md has the method.
// `node bench/transfer.mjs [rounds]` (default 15); results in bench/results/transfer.{json,md}.
import { writeFileSync } from 'node:fs';
import { Piscina } from 'piscina';
import { ThreadPool, transfer } from '../dist/index.js';

const ROUNDS = Number(process.argv[2] ?? 15);
const WARMUP = 3;
const MB = 1024 * 1024;
const SIZES = [1, 10, 100];
const module = new URL('./workers/transfer-tasks.mjs', import.meta.url);

const viscose = await ThreadPool.create({ module, threads: 2 });
const piscina = new Piscina({ filename: module.href, name: 'length', minThreads: 2, maxThreads: 2 });

/** The four ways, each handing `buffer` to the task and resolving with what it returned. */
const WAYS = {
  'viscose copy': (buffer) => viscose.run('length', buffer),
  'viscose transfer': (buffer) => viscose.run('length', transfer(buffer)),
  'piscina copy': (buffer) => piscina.run(buffer),
  'piscina move': (buffer) => piscina.run(Piscina.move(buffer)),
};

function freshBuffer(bytes) {
  const buffer = new ArrayBuffer(bytes);
  new Uint8Array(buffer).fill(1);
  return buffer;
}

async function timeOne(way, bytes) {
  const buffer = freshBuffer(bytes);
  const start = performance.now();
  const length = await WAYS[way](buffer);
  const ms = performance.now() - start;
  if (length !== bytes) throw new Error(`${way}: the task saw ${length} bytes, not ${bytes}`);
  return ms;
}

const samples = {};
for (const size of SIZES) {
  const bytes = size * MB;
  for (const way of Object.keys(WAYS)) samples[`${size}|${way}`] = [];
  for (let round = -WARMUP; round < ROUNDS; round++) {
    for (const way of Object.keys(WAYS)) {
      const ms = await timeOne(way, bytes);
      if (round >= 0) samples[`${size}|${way}`].push(ms);
    }
  }
}

await viscose.close();
await piscina.destroy();

const sorted = (values) => [...values].sort((a, b) => a - b);
const median = (values) => {
  const s = sorted(values);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [];
for (const size of SIZES) {
  for (const way of Object.keys(WAYS)) {
    const values = samples[`${size}|${way}`];
    rows.push({ sizeMB: size, way, medianMs: median(values), minMs: Math.min(...values), maxMs: Math.max(...values), samples: values });
  }
}

const fixed = (ms) => (ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const environment = {
  runtime: `node ${process.version}`,
  cpus: (await import('node:os')).cpus().length,
  rounds: ROUNDS,
  warmup: WARMUP,
  date: new Date().toISOString(),
};
const lines = [
  `# Handing an ArrayBuffer to a task`,
  '',
  `${environment.runtime}, ${environment.cpus} CPUs, 2 threads per pool, ${ROUNDS} rounds after ${WARMUP} of warm-up, ${environment.date}.`,
  'Time from the call to its result for a task that returns the buffer’s length; fresh buffer each run. Method: bench/README.md, "Transfers".',
  '',
  '| size | way | median, ms | range, ms |',
  '| ---: | --- | ---: | ---: |',
  ...rows.map((row) => `| ${row.sizeMB} MB | ${row.way} | ${fixed(row.medianMs)} | ${fixed(row.minMs)}–${fixed(row.maxMs)} |`),
  '',
];
const results = new URL('./results/', import.meta.url);
writeFileSync(new URL('transfer.json', results), `${JSON.stringify({ environment, rows }, null, 2)}\n`);
writeFileSync(new URL('transfer.md', results), lines.join('\n'));
console.log(lines.join('\n'));
