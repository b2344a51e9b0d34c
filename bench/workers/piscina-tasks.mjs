// piscina's worker file: `piscina.run(arg, { name })` calls the named export (the documented way
// to have several tasks in one file).
export { cpu, trivial } from '../lib/tasks.mjs';
