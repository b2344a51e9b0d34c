// piscina's worker file: `piscina.run(arg)` calls the default export, which is the plain and
// documented way to use it.
export { trivial as default } from '../lib/tasks.mjs';
