// The cluster against a local pool given the same CPU: `npm run bench:bullmq` (add `-- --quick`
// for a smoke run, `-- --rounds N` for N rounds instead of 5). Needs root: every node runs on a
// simulated host (test/support/hosts: a network namespace of its own, reaching Redis over a link
// of its own, and a cgroup CPU quota), so that adding a host adds CPU even on a small machine. The
// client and Redis run outside the hosts, as on their own machine. The local pool runs as a
// program inside a host's quota too (bench/hosts/local-batch.mjs), so that both sides of each
// ratio have the same CPU.
//
// Configurations, measured in turn in every round (the order rotates), each on fresh processes:
// - half-core series: a local pool of 1 thread in half a core; clusters of 1 and 2 hosts of half a
//   core (1 thread each); the same two clusters with 1 ms added each way between hosts and Redis
//   (a delaying proxy, test/support/hosts/delay-proxy.c: this kernel has no netem; the report gives
//   how late the proxies actually delivered, which on a busy machine is later than set);
// - quarter-core series: clusters of 1 and 4 hosts of a quarter core each, and a local pool of 4
//   threads in one core.
// Workloads: a batch of trivial tasks (100,000) in every configuration; a batch of CPU-bound tasks
// (2,000 of about 2 ms) in the half-core series. Every batch's results are checked. Each cluster
// configuration of each round has a queue of its own, removed from Redis once measured.
// Timing (workloads.mjs, timeBatches): in every round, each configuration's processes warm up
// first, then time several batches in a row. Trivial tasks warm up with six whole batches for each
// process that runs calls (the local pool's, or every node of a cluster): a process's first
// batches run while V8 is still compiling (measured: a local pool's first four batches of 100,000
// took 497, 382, 298 and 105 ms in half a core, and V8's background threads, compiling and
// collecting, took as much of a node's quota as its main thread), and each node of a cluster
// compiles for itself from the calls it gets (measured from cold: a node's CPU per batch settled
// after about 500,000 calls, five batches on one host and ten on two). The CPU-bound tasks, whose
// time is the tasks', warm up with a fifth of a batch per process. On a cluster the warm-up also
// lets the chunk sizer learn the task's cost. Figures are means of every timed batch over the
// rounds (the batches of a round run back to back, so that is the sustained throughput), and
// ratios are of means. Not medians: a batch of a few hundred milliseconds spans few of the quota's
// 100 ms periods, so batch times cluster around whole periods. A warm local
// pool's batches in half a core take about 100 or about 200 ms (50-55 ms of CPU fit one period or
// spill into a second), and the median lands on either. Measured in 30 batches each: with a 10 ms
// period the batches spread from 87 to 201 ms instead, and the mean stayed (134 against 132 ms)
// where the median moved (134 against 109). Writes bench/results/bullmq.{md,json}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ClusterClient } from 'viscose/bullmq';
import { createHosts, hostsAvailable } from '../test/support/hosts/index.mjs';
import { timeBatches, workload } from './hosts/workloads.mjs';
import { calibrate } from './lib/calibrate.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { mean } from './lib/stats.mjs';

const quick = process.argv.includes('--quick');
const roundsAt = process.argv.indexOf('--rounds');
const ROUNDS = quick ? 1 : roundsAt < 0 ? 5 : Number(process.argv[roundsAt + 1]);
if (!(Number.isInteger(ROUNDS) && ROUNDS > 0)) {
  process.stderr.write(`--rounds takes a positive whole number, not ${process.argv[roundsAt + 1]}\n`);
  process.exit(1);
}
const TRIVIAL = quick ? 10_000 : 100_000;
const CPU_TASKS = quick ? 200 : 2_000;
const LATENCY_MS = 1;
const MODULE = fileURLToPath(new URL('./workers/viscose-tasks.mjs', import.meta.url));
const LOCAL_BATCH = fileURLToPath(new URL('./hosts/local-batch.mjs', import.meta.url));
const log = (message) => process.stderr.write(`${message}\n`);

const available = hostsAvailable();
if (!available.ok) {
  log(`bench:bullmq needs simulated hosts (network namespaces and CPU quotas): ${available.why}`);
  process.exit(1);
}

const unit = calibrate();
/** Timed batches per configuration and round. */
const BATCHES = quick ? 1 : 5;
const TRIVIAL_SPEC = { name: 'trivial', kind: 'trivial', count: TRIVIAL, warmUpCalls: (quick ? 1 : 6) * TRIVIAL, batches: BATCHES };
const CPU_SPEC = { name: 'cpu', kind: 'cpu', count: CPU_TASKS, unit, warmUpCalls: Math.ceil(CPU_TASKS / 5), batches: 1 };
const built = { trivial: workload(TRIVIAL_SPEC), cpu: workload(CPU_SPEC) };

const hosts = createHosts();
try {
  const redis = await hosts.startRedis();
  const half = await Promise.all(['h1', 'h2'].map((name) => hosts.addHost(name, { cpus: 0.5 })));
  const delayed = await Promise.all(['d1', 'd2'].map((name) => hosts.addHost(name, { cpus: 0.5, latencyMs: LATENCY_MS })));
  const quarter = await Promise.all(['q1', 'q2', 'q3', 'q4'].map((name) => hosts.addHost(name, { cpus: 0.25 })));
  const localHalf = hosts.addLocalHost('lhalf', { cpus: 0.5 });
  const localFour = hosts.addLocalHost('lfour', { cpus: 1 });

  /** Each configuration: what it runs, and how. */
  const configurations = [
    { name: 'local pool, 1 thread, ½ core', workloads: ['trivial', 'cpu'], local: { host: localHalf, threads: 1 } },
    { name: 'cluster, 1 host × ½ core', workloads: ['trivial', 'cpu'], cluster: half.slice(0, 1) },
    { name: 'cluster, 2 hosts × ½ core', workloads: ['trivial', 'cpu'], cluster: half },
    { name: `cluster, 1 host × ½ core, +${LATENCY_MS} ms`, workloads: ['trivial', 'cpu'], cluster: delayed.slice(0, 1) },
    { name: `cluster, 2 hosts × ½ core, +${LATENCY_MS} ms`, workloads: ['trivial', 'cpu'], cluster: delayed },
    { name: 'local pool, 4 threads, 1 core', workloads: ['trivial'], local: { host: localFour, threads: 4 } },
    { name: 'cluster, 1 host × ¼ core', workloads: ['trivial'], cluster: quarter.slice(0, 1) },
    { name: 'cluster, 4 hosts × ¼ core', workloads: ['trivial'], cluster: quarter },
  ];

  /** Per configuration and workload, the milliseconds of each timed batch. */
  const samples = {};
  let queues = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < configurations.length; k++) {
      const configuration = configurations[(k + round) % configurations.length];
      const measured = configuration.local
        ? await measureLocal(configuration)
        : await measureCluster(configuration, redis.url, `bench-${++queues}`);
      samples[configuration.name] ??= {};
      for (const [name, ms] of Object.entries(measured)) {
        samples[configuration.name][name] ??= [];
        samples[configuration.name][name].push(...ms);
      }
      const rounded = Object.fromEntries(Object.entries(measured).map(([name, ms]) => [name, ms.map(Math.round)]));
      log(`round ${round + 1}/${ROUNDS}: ${configuration.name}: ${JSON.stringify(rounded)}`);
    }
  }
  report(samples, await Promise.all(delayed.map((host) => hosts.delaysOf(host))));
} finally {
  hosts.disposeSync();
}

/** Runs the workloads on a local pool inside the configuration's host. */
async function measureLocal({ workloads, local: { host, threads } }) {
  const plan = { threads, workloads: workloads.map((name) => (name === 'cpu' ? CPU_SPEC : TRIVIAL_SPEC)) };
  const program = hosts.runNode(host, [LOCAL_BATCH, JSON.stringify(plan)]);
  const { code } = await program.exited;
  if (code !== 0) throw new Error(`the local batch failed (${code}): ${program.errors()}`);
  const measured = {};
  for (const line of program.output().trim().split('\n')) {
    const { workload: name, ms } = JSON.parse(line);
    measured[name] = ms;
  }
  return measured;
}

/** Runs the workloads from a client here on nodes of one thread on each of the configuration's hosts. */
async function measureCluster({ workloads, cluster }, redisUrl, queue) {
  const nodes = await Promise.all(cluster.map((host) => hosts.startNode(host, { queue, module: MODULE, threads: 1 })));
  const client = await ClusterClient.connect({ queue, redis: redisUrl });
  try {
    const measured = {};
    for (const name of workloads) {
      const spec = name === 'cpu' ? CPU_SPEC : TRIVIAL_SPEC;
      const warmUp = { ...spec, warmUpCalls: spec.warmUpCalls * nodes.length };
      measured[name] = await timeBatches((task, argsList) => client.runBatch(task, argsList), built[name], warmUp);
    }
    return measured;
  } finally {
    await client.close();
    for (const node of nodes) node.child.kill('SIGTERM');
    await Promise.all(nodes.map((node) => node.exited));
    await obliterate(redisUrl, queue);
  }
}

/**
 * Removes every key of `queue`: its event stream alone holds about 40 MB after a few batches, and
 * a run of ten rounds measures 80 queues, which would leave Redis growing by gigabytes under the
 * later configurations.
 */
async function obliterate(redisUrl, queue) {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const bullQueue = new Queue(queue, { connection });
  try {
    await bullQueue.obliterate({ force: true });
  } finally {
    await bullQueue.close();
    connection.disconnect();
  }
}

/**
 * @param {Record<string, Record<string, number[]>>} samples
 * @param {import('../test/support/hosts/delay-proxy.mjs').Delays[]} delays the delayed hosts' proxies', over the whole run
 */
function report(samples, delays) {
  const ms = (configuration, name) => {
    const runs = samples[configuration]?.[name];
    return runs === undefined ? undefined : mean(runs);
  };
  const names = Object.keys(samples);
  const row = (configuration) => {
    const trivial = ms(configuration, 'trivial');
    const cpu = ms(configuration, 'cpu');
    const perCall = trivial === undefined ? '—' : ((trivial * 1000) / TRIVIAL).toFixed(1);
    return `| ${configuration} | ${trivial === undefined ? '—' : Math.round(trivial)} | ${Math.round((TRIVIAL / trivial) * 1000).toLocaleString('en')} | ${perCall} | ${cpu === undefined ? '—' : Math.round(cpu)} |`;
  };
  const ratio = (a, b, name) => (ms(b, name) / ms(a, name)).toFixed(2);
  const [localHalf, one, two, oneDelayed, twoDelayed, localFour, oneQuarter, fourQuarter] = [
    'local pool, 1 thread, ½ core',
    'cluster, 1 host × ½ core',
    'cluster, 2 hosts × ½ core',
    `cluster, 1 host × ½ core, +${LATENCY_MS} ms`,
    `cluster, 2 hosts × ½ core, +${LATENCY_MS} ms`,
    'local pool, 4 threads, 1 core',
    'cluster, 1 host × ¼ core',
    'cluster, 4 hosts × ¼ core',
  ];
  const overheadUs = (((ms(one, 'trivial') - ms(localHalf, 'trivial')) * 1000) / TRIVIAL).toFixed(1);
  const lines = [
    '# The cluster against a local pool with the same CPU',
    '',
    `${describeEnvironment([]).cpuModel}, Node.js ${process.version}; every node on a simulated host (network namespace, CPU quota), one thread each; the client and Redis outside the hosts; after a warm-up, mean of every timed batch (${ROUNDS} round(s) of ${BATCHES} trivial batch(es) and 1 CPU-bound batch per configuration). Method: bench/bullmq.mjs.`,
    '',
    `| configuration | ${TRIVIAL.toLocaleString('en')} trivial tasks, ms | trivial tasks/s | µs per trivial task | ${CPU_TASKS.toLocaleString('en')} tasks of ~2 ms CPU, ms |`,
    '|---|---:|---:|---:|---:|',
    ...names.map(row),
    '',
    '| ratio | trivial | ~2 ms tasks | target |',
    '|---|---:|---:|---|',
    `| 1 host ÷ local pool, ½ core (throughput) | ${ratio(one, localHalf, 'trivial')} | ${ratio(one, localHalf, 'cpu')} | trivial ≥ 0.50 |`,
    `| 2 hosts ÷ 1 host, ½ core each | ${ratio(two, one, 'trivial')} | ${ratio(two, one, 'cpu')} | ≥ 1.80 |`,
    `| 4 hosts ÷ 1 host, ¼ core each | ${ratio(fourQuarter, oneQuarter, 'trivial')} | — | ≥ 3.50 |`,
    `| 4 hosts × ¼ core ÷ local pool of 4 threads in 1 core | ${ratio(fourQuarter, localFour, 'trivial')} | — | — |`,
    `| 1 host, +${LATENCY_MS} ms ÷ without | ${ratio(oneDelayed, one, 'trivial')} | ${ratio(oneDelayed, one, 'cpu')} | ≥ 0.80 |`,
    `| 2 hosts, +${LATENCY_MS} ms ÷ without | ${ratio(twoDelayed, two, 'trivial')} | ${ratio(twoDelayed, two, 'cpu')} | ≥ 0.80 |`,
    '',
    `Cost per call through the cluster over the local pool, trivial tasks, 1 host × ½ core: ${overheadUs} µs (target ≤ 20 µs).`,
    '',
    `The +${LATENCY_MS} ms delay as the proxies delivered it, per chunk of bytes from read to written (warm-ups included): ${delays.map(describeDelays).join('; ')}.`,
    '',
  ];
  const text = lines.join('\n');
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const outputName = quick ? 'bullmq-quick' : 'bullmq';
  writeFileSync(new URL(`./results/${outputName}.md`, import.meta.url), text);
  writeFileSync(
    new URL(`./results/${outputName}.json`, import.meta.url),
    JSON.stringify(
      { rounds: ROUNDS, batches: BATCHES, trivial: TRIVIAL, cpuTasks: CPU_TASKS, unit, latencyMs: LATENCY_MS, delays, samples },
      null,
      1,
    ),
  );
  process.stdout.write(text);
}

/** @param {import('../test/support/hosts/delay-proxy.mjs').Delays} delays */
function describeDelays({ chunks, meanMs, medianMs, p99Ms, maxMs }) {
  return `mean ${meanMs.toFixed(2)} ms, median ≤ ${medianMs.toFixed(2)}, 99th percentile ≤ ${p99Ms.toFixed(2)}, max ${maxMs.toFixed(1)} (${chunks.toLocaleString('en')} chunks)`;
}
