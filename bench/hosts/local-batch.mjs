// The local-pool side of `npm run bench:bullmq`, run inside a simulated host's CPU quota (its
// cgroup) so that the cluster is compared with a pool given the same CPU. argv[2] is a plan as
// JSON: `{ threads, workloads: [{ name, kind, count, unit?, rounds }] }` (workloads.mjs). Prints
// one JSON line per measured batch: `{ workload, ms }`, after checking every result.
import { fileURLToPath } from 'node:url';
import { ThreadPool } from 'viscose';
import { workload } from './workloads.mjs';

const MODULE = fileURLToPath(new URL('../workers/viscose-tasks.mjs', import.meta.url));
const plan = JSON.parse(process.argv[2]);
const pool = await ThreadPool.create({ module: MODULE, threads: plan.threads });
try {
  for (const spec of plan.workloads) {
    const { task, argsList, check } = workload(spec);
    await pool.runBatch(task, argsList.slice(0, Math.ceil(argsList.length / 5))); // warm-up, as the cluster's
    for (let round = 0; round < spec.rounds; round++) {
      const start = performance.now();
      const results = await pool.runBatch(task, argsList);
      const ms = performance.now() - start;
      check(results);
      process.stdout.write(`${JSON.stringify({ workload: spec.name, ms })}\n`);
    }
  }
} finally {
  await pool.close();
}
