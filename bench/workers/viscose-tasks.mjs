// viscose's task module: its exported functions are the tasks, named by their export names.
export { cpu, handleRequest, trivial } from '../lib/tasks.mjs';
export { fib } from './viscose-forkjoin.mjs';
