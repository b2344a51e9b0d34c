// Runs one.mjs for one contender in a fresh process and collects its JSON line. A child that hangs
// is killed at the profile's timeout; one that printed its result but does not exit is killed
// after a grace period and reported, since a pool that keeps the process alive is a finding too.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runtimeCommand } from './runtimes.mjs';

const ONE = fileURLToPath(new URL('../one.mjs', import.meta.url));
/** How long a child may take to exit after printing its result. */
const EXIT_GRACE_MS = 5_000;
/** How much of a failing child's stderr the report keeps. */
const STDERR_TAIL = 2_000;

/**
 * Runs one.mjs for `contender` on `runtime` (a name from lib/runtimes.mjs; by default this process's
 * own binary).
 * `{ ok, result?, failure?, exit: { code, signal, onItsOwn }, wallMs }`; `failure` says why there is
 * no result (non-zero exit, timeout, no JSON line).
 */
export function runChild(contender, profileName, timeoutMs, env = {}, runtime = undefined) {
  const start = performance.now();
  const [binary, ...args] = runtimeCommand(runtime, ONE);
  const child = spawn(binary, [...args, contender, profileName], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  let killedBecause;
  let printed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk;
    if (!printed && stdout.includes('\n')) {
      printed = true;
      armKill(EXIT_GRACE_MS, `did not exit within ${EXIT_GRACE_MS} ms of printing its result`);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));

  let killTimer;
  function armKill(ms, reason) {
    clearTimeout(killTimer);
    killTimer = setTimeout(() => {
      killedBecause = reason;
      child.kill('SIGKILL');
    }, ms);
  }
  armKill(timeoutMs, `timed out after ${timeoutMs} ms`);

  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      const wallMs = performance.now() - start;
      const exit = { code, signal, onItsOwn: killedBecause === undefined, killedBecause: killedBecause ?? null };
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      const stderrTail = stderr.slice(-STDERR_TAIL);
      if (line === undefined || (code !== 0 && exit.onItsOwn)) {
        resolve({ ok: false, failure: killedBecause ?? `exited with code ${code}`, stderrTail, exit, wallMs });
      } else {
        resolve({ ok: true, result: JSON.parse(line), stderrTail, exit, wallMs });
      }
    });
  });
}
