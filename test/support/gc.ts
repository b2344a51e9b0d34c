/**
 * A full garbage collection on demand, for tests that measure retained memory: without one,
 * `heapUsed` counts garbage that is merely not collected yet, and how much of it a heap lets pile
 * up differs between V8 versions (Node 24 grows its young generation far more than Node 20 did).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface BunGlobal {
  gc(force: boolean): void;
}

function collector(): () => void {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  if (bun !== undefined) return () => bun.gc(true);
  // V8 exposes `gc` to contexts created after the flag is set (Node and Deno).
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Collects garbage fully, then returns the heap in use, in bytes. */
export const retainedHeap: () => number = (() => {
  const collect = collector();
  return () => {
    collect();
    return process.memoryUsage().heapUsed;
  };
})();
