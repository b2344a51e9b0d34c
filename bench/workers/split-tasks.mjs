// The ideal split's worker: it receives its whole share of the CPU-bound tasks in one message and
// answers with all their results in one message, so that nothing but the work itself takes time.
import { parentPort } from 'node:worker_threads';
import { cpu } from '../lib/tasks.mjs';

parentPort.on('message', ({ id, args }) => parentPort.postMessage({ id, results: args.map(cpu) }));
