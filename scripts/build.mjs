// Builds dist/: the library (viscose), the task-side helpers (viscose/worker), the cluster over
// BullMQ (viscose/bullmq), the `viscose` command and the worker entry,
// as ESM with shared chunks, so that the worker entry and viscose/worker share one module
// instance; then the type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: {
    index: 'src/index.ts',
    worker: 'src/worker.ts',
    bullmq: 'src/bullmq.ts',
    cli: 'src/cli.ts',
    'worker-entry': 'src/worker/entry.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755); // the `viscose` command
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
