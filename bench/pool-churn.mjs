// Pool churn: create a pool of 2 threads, run one task, close it; N times in a row. Every N/10 pools
// the process collects garbage and gives the FinalizationRegistry cleanups two turns to run (Comlink
// holds each closed worker's endpoint until its proxies are collected and the cleanup has run), then
// records RSS, the main thread's heap in use, `external`, `arrayBuffers` and the count of active
// handles (process.getActiveResourcesInfo()).
//
// To tell what viscose keeps from what the allocator and V8 keep, the same loop runs in child
// processes under several settings, next to a baseline that churns two plain `worker_threads`
// Workers (one message round trip each, then terminate) with no viscose at all:
//   - glibc malloc as it comes (its main arena is trimmed only past a threshold that freeing large
//     mmapped blocks raises, and each thread may get an arena of its own, up to 8 per core);
//   - MALLOC_TRIM_THRESHOLD_=0 (free() gives the top of the heap back at once; a fixed threshold
//     also stops glibc from moving its mmap threshold);
//   - that and MALLOC_ARENA_MAX=2 (every thread shares two arenas);
//   - that and node --max-semi-space-size=1 (the main thread's young generation stays at 1 MiB
//     per semi-space instead of growing with the allocation rate);
//   - jemalloc through LD_PRELOAD, when the system has libjemalloc.so.2 (skipped otherwise).
// Each sample also splits RSS by the mappings that hold it (/proc/self/smaps, see residentSplit).
// Memory held for viscose objects would show in the main heap, arrayBuffers and the handle count,
// and grow with the number of pools under every setting; what the pools' threads leave in the
// allocator's free lists, and V8's reserve, show in RSS only and move with the settings.
//
// `node --expose-gc bench/pool-churn.mjs [--pools 1000]` after `npm run build`; about 1 s per 10 pools
// per run (10 runs) on 2 cores. Writes bench/results/pool-churn.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describeEnvironment } from './lib/environment.mjs';

const MiB = 2 ** 20;
const ARENA_SIZE = 64n * 2n ** 20n;
const V8_PAGE_SIZE = 256n * 2n ** 10n;
const POOLS = Number(argument('--pools') ?? 1000);
const CHILD = argument('--child');
const ECHO = 'const { parentPort } = require("node:worker_threads"); parentPort.on("message", (n) => parentPort.postMessage(n + 1));';
const JEMALLOC = ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'].find((path) =>
  existsSync(path),
);

/** One churn run in this process; prints one JSON sample per line. */
async function churn(kind) {
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
  const once = kind === 'viscose' ? await viscoseOnce() : plainWorkersOnce;
  const every = POOLS / 10;
  for (let pools = 0; pools <= POOLS; pools++) {
    if (pools % every === 0) console.log(JSON.stringify({ pools, ...(await settledMemory()) }));
    if (pools < POOLS) await once();
  }
}

async function viscoseOnce() {
  const { ThreadPool } = await import('../dist/index.js');
  const module = new URL('../test/fixtures/tasks.mjs', import.meta.url);
  return async () => {
    const pool = await ThreadPool.create({ module, threads: 2 });
    if ((await pool.run('add', 1, 2)) !== 3) throw new Error('wrong result');
    await pool.close();
  };
}

async function plainWorkersOnce() {
  const workers = [0, 1].map(() => new Worker(ECHO, { eval: true }));
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve) => {
          worker.once('message', resolve);
          worker.postMessage(1);
        }),
    ),
  );
  await Promise.all(workers.map((worker) => worker.terminate()));
}

async function settledMemory() {
  for (let turn = 0; turn < 3; turn++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  globalThis.gc();
  const memory = process.memoryUsage();
  return {
    rss: memory.rss / MiB,
    heapUsed: memory.heapUsed / MiB,
    heapTotal: memory.heapTotal / MiB,
    external: memory.external / MiB,
    arrayBuffers: memory.arrayBuffers / MiB,
    handles: process.getActiveResourcesInfo().length,
    ...residentSplit(),
  };
}

/**
 * Where the resident memory is (Linux, /proc/self/smaps): pages of mapped files (the node binary's
 * code, paged in as threads run it); glibc's main arena (the brk heap); glibc's thread arenas
 * (anonymous mappings on a 64 MiB boundary, at most 64 MiB each); anonymous 256 KiB mappings, the
 * size of a V8 heap page; and every other anonymous mapping (V8's large objects, stacks, jemalloc's
 * extents when it is preloaded).
 */
function residentSplit() {
  if (!existsSync('/proc/self/smaps')) return {};
  const split = { files: 0, mainArena: 0, threadArenas: 0, v8Pages: 0, otherAnonymous: 0 };
  let group;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping !== null) {
      const start = BigInt(`0x${mapping[1]}`);
      const size = BigInt(`0x${mapping[2]}`) - start;
      const name = mapping[3];
      if (name === '[heap]') group = 'mainArena';
      else if (name.startsWith('[')) group = undefined;
      else if (name !== '') group = 'files';
      else if (start % ARENA_SIZE === 0n && size <= ARENA_SIZE) group = 'threadArenas';
      else group = size === V8_PAGE_SIZE ? 'v8Pages' : 'otherAnonymous';
      continue;
    }
    const resident = /^Rss:\s+(\d+) kB/.exec(line);
    if (resident !== null && group !== undefined) split[group] += Number(resident[1]) / 1024;
  }
  return split;
}

/** Runs every variant in a child process and writes the table. */
async function compare() {
  const script = fileURLToPath(import.meta.url);
  const variants = [
    { allocator: 'glibc', env: {} },
    { allocator: 'glibc, MALLOC_TRIM_THRESHOLD_=0', env: { MALLOC_TRIM_THRESHOLD_: '0' } },
    { allocator: 'glibc, MALLOC_ARENA_MAX=2, MALLOC_TRIM_THRESHOLD_=0', env: { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '0' } },
    {
      allocator: 'glibc, MALLOC_ARENA_MAX=2, MALLOC_TRIM_THRESHOLD_=0, node --max-semi-space-size=1',
      env: { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '0' },
      flags: ['--max-semi-space-size=1'],
    },
    ...(JEMALLOC === undefined ? [] : [{ allocator: 'jemalloc (LD_PRELOAD)', env: { LD_PRELOAD: JEMALLOC } }]),
  ];
  const runs = [];
  for (const variant of variants) {
    for (const kind of ['viscose', 'plain Workers']) {
      const output = execFileSync(
        process.execPath,
        ['--expose-gc', ...(variant.flags ?? []), script, '--pools', String(POOLS), '--child', kind === 'viscose' ? 'viscose' : 'plain'],
        {
          env: { ...process.env, ...variant.env },
          encoding: 'utf8',
          maxBuffer: 64 * MiB,
        },
      );
      const samples = output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      runs.push({ ...variant, kind, samples });
      const last = samples.at(-1);
      console.log(
        `${variant.allocator} / ${kind}: RSS ${mib(samples[0].rss)} → ${mib(last.rss)} MiB, heap ${mib(samples[0].heapUsed)} → ${mib(last.heapUsed)} MiB`,
      );
    }
  }
  writeFileSync(new URL('./results/pool-churn.md', import.meta.url), report(runs));
}

function report(runs) {
  const environment = describeEnvironment(['viscose']);
  const split = (sample) =>
    [sample.files, sample.mainArena, sample.threadArenas, sample.v8Pages, sample.otherAnonymous].map(mib).join(' / ');
  const lines = [
    `# Pool churn: ${POOLS.toLocaleString('en')} pools created and closed in turn`,
    '',
    `${environment.cpuModel}, ${environment.cpus} CPUs, Node ${process.version}, viscose ${environment.packages.viscose} (${environment.source.commit}), ${environment.date}.`,
    `Method: bench/pool-churn.mjs (header). Each pool: 2 threads, one \`run\`, \`close\`; the baseline churns two plain Workers instead. Sampled after gc; MiB.${JEMALLOC === undefined ? ' No libjemalloc.so.2 here: no jemalloc rows.' : ''}`,
    'RSS split: files / glibc main arena / glibc thread arenas / 256 KiB anonymous mappings (V8 heap pages) / other anonymous.',
    '',
    '## Summary',
    '',
    `| allocator | loop | RSS at 0 | RSS at ${POOLS / 10} | RSS at ${POOLS / 2} | RSS at ${POOLS} | RSS split at ${POOLS} | main heap used at ${POOLS / 10} → ${POOLS} (reserved at ${POOLS}) | arrayBuffers at ${POOLS} | handles at ${POOLS} |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const run of runs) {
    const at = (pools) => run.samples.find((sample) => sample.pools === pools);
    const last = at(POOLS);
    lines.push(
      `| ${run.allocator} | ${run.kind} | ${mib(at(0).rss)} | ${mib(at(POOLS / 10).rss)} | ${mib(at(POOLS / 2).rss)} | ${mib(last.rss)} | ${split(last)} | ${mib(at(POOLS / 10).heapUsed)} → ${mib(last.heapUsed)} (${mib(last.heapTotal)}) | ${mib(last.arrayBuffers)} | ${last.handles} |`,
    );
  }
  lines.push('', '## Every sample', '');
  for (const run of runs) {
    lines.push(
      `### ${run.allocator}, ${run.kind}`,
      '',
      '| pools | RSS | RSS split | heap used | heap reserved | external | arrayBuffers | handles |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const sample of run.samples) {
      lines.push(
        `| ${sample.pools} | ${mib(sample.rss)} | ${split(sample)} | ${mib(sample.heapUsed)} | ${mib(sample.heapTotal)} | ${mib(sample.external)} | ${mib(sample.arrayBuffers)} | ${sample.handles} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function mib(value) {
  return value === undefined ? 'n/a' : value.toFixed(1);
}

if (CHILD !== undefined) await churn(CHILD);
else await compare();

function argument(name) {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}
