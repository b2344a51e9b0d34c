// poolifier's worker file: a ThreadWorker with named task functions, for `pool.execute(arg, name)`.
import { ThreadWorker } from 'poolifier';
import { cpu, trivial } from '../lib/tasks.mjs';

export default new ThreadWorker({ cpu, trivial });
