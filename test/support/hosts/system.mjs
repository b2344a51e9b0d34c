/**
 * The few system calls the hosts harness makes: `ip`, a synchronous sleep, and whether a pid
 * still lives. Synchronous on purpose: cleanup must also run inside a process 'exit' handler.
 */
import { execFileSync } from 'node:child_process';

/**
 * Runs `ip args…` (in network namespace `netns` when given) and returns its output; throws
 * with ip's own message on failure.
 * @param {readonly string[]} args
 * @param {string} [netns]
 * @returns {string}
 */
export function ip(args, netns) {
  const full = netns === undefined ? args : ['-n', netns, ...args];
  try {
    return execFileSync('ip', full, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = /** @type {{ stderr?: string }} */ (error).stderr ?? '';
    throw new Error(`ip ${full.join(' ')}: ${stderr.trim() || String(error)}`);
  }
}

/** Like {@link ip}, for cleanup: a failure (already gone) is not an error. */
export function ipQuietly(/** @type {readonly string[]} */ args, /** @type {string | undefined} */ netns) {
  try {
    ip(args, netns);
  } catch {}
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` milliseconds. */
export function sleepSync(/** @type {number} */ ms) {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Whether process `pid` still exists (EPERM: it exists, but is not ours to signal). */
export function alive(/** @type {number} */ pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
  }
}
