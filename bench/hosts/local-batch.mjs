// The local-pool side of `npm run bench:bullmq`, run inside a simulated host's CPU quota (its
// cgroup) so that the cluster is compared with a pool given the same CPU. argv[2] is a plan as
// JSON: `{ threads, workloads: [{ name, kind, count, unit?, warmUpCalls, batches }] }`
// (workloads.mjs). Prints one JSON line per workload: `{ workload, ms: [each timed batch's] }`.
import { fileURLToPath } from 'node:url';
import { ThreadPool } from 'viscose';
import { timeBatches, workload } from './workloads.mjs';

const MODULE = fileURLToPath(new URL('../workers/viscose-tasks.mjs', import.meta.url));
const plan = JSON.parse(process.argv[2]);
const pool = await ThreadPool.create({ module: MODULE, threads: plan.threads });
try {
  for (const spec of plan.workloads) {
    const ms = await timeBatches((task, argsList) => pool.runBatch(task, argsList), workload(spec), spec);
    process.stdout.write(`${JSON.stringify({ workload: spec.name, ms })}\n`);
  }
} finally {
  await pool.close();
}
