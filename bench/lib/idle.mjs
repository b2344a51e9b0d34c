// Waits for the machine to go quiet before a child starts, so that each child begins on an idle
// machine rather than in the tail of someone else's work (including the previous child's exit).
import { busyCores } from './cpu-meter.mjs';

/** Busy cores, machine-wide, below which the machine counts as idle. */
const IDLE_CORES = 0.15;
/** Length of one busy-cores sample. */
const WINDOW_MS = 500;

/**
 * Resolves once a whole window stays under IDLE_CORES (`idle: true`), at the timeout (`false`), or
 * at once where CPU load cannot be read (`null`).
 */
export async function waitForIdle(timeoutMs) {
  const start = Date.now();
  let cores;
  do {
    cores = await busyCores(WINDOW_MS);
    if (cores === null) return { idle: null, busyCores: null, waitedMs: 0 };
    if (cores < IDLE_CORES) return { idle: true, busyCores: cores, waitedMs: Date.now() - start };
  } while (Date.now() - start < timeoutMs);
  return { idle: false, busyCores: cores, waitedMs: Date.now() - start };
}

export const IDLE_RULE = `< ${IDLE_CORES} busy cores over ${WINDOW_MS} ms`;
