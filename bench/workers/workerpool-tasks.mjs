// workerpool's worker script: registers the tasks by name for `pool.exec(name, [arg])`.
import workerpool from 'workerpool';
import { cpu, trivial } from '../lib/tasks.mjs';

workerpool.worker({ cpu, trivial });
