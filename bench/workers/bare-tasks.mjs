// The bare worker_threads reference: no pool library, one message per task each way.
import { parentPort } from 'node:worker_threads';
import { cpu, trivial } from '../lib/tasks.mjs';

const tasks = { cpu, trivial };
parentPort.on('message', ({ id, name, arg }) => parentPort.postMessage({ id, result: tasks[name](arg) }));
