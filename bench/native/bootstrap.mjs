// Entry of the benchmark's worker threads: Node 20 ignores loader flags in a Worker's execArgv, so
// the TypeScript loader is registered here before the thread's own module is imported.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
