// tinypool's worker file: `pool.run(arg, { name })` calls the named export, as in piscina.
export { cpu, trivial } from '../lib/tasks.mjs';
