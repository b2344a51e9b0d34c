// Entry point of every test worker thread.
//
// Node 20 ignores ESM loader flags in a Worker's `execArgv` (nodejs/node#47747, tsx#354), so
// `execArgv: ['--import', 'tsx']` fails with ERR_UNKNOWN_FILE_EXTENSION. Registering tsx from
// inside the worker and then importing the TypeScript entry works on every Node version we support.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
