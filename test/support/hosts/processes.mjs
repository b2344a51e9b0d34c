/**
 * Processes on a simulated host: started through `sh`, which moves itself into the host's cgroup
 * and then execs (via `ip netns exec` and `unshare --uts` for a host with a network) the command,
 * each step an exec in the same process: the process and every thread it ever starts are limited
 * and networked as the host from their first instruction, and the pid the caller holds is the
 * command's own.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * @typedef {object} HostProcess A process started on a host.
 * @property {import('node:child_process').ChildProcess} child
 * @property {() => string} output Its standard output so far.
 * @property {() => string} errors Its standard error so far.
 * @property {(text: string, timeoutMs?: number) => Promise<void>} waitForOutput Resolves once its
 *   standard output contains `text`; rejects (with what it printed) when it exits first or after
 *   `timeoutMs` (default 30 s).
 * @property {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} exited
 */

/**
 * Starts `command args…` in cgroup `cgroup`; with `netns`, inside that network namespace and a UTS
 * namespace of its own named `hostname` (so that `os.hostname()`, and a node's name, is the host's).
 * @param {{ cgroup: string, netns?: string, hostname?: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv, stdin?: boolean }} how
 *   `stdin`: pipe its standard input (else it reads nothing)
 * @returns {HostProcess}
 */
export function spawnInHost({ cgroup, netns, hostname, command, args, env, stdin = false }) {
  const enter =
    netns === undefined
      ? []
      : ['ip', 'netns', 'exec', netns, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', hostname ?? netns];
  const child = spawn(
    'sh',
    ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', join(cgroup, 'cgroup.procs'), ...enter, command, ...args],
    {
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: env ?? process.env,
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  /** @type {HostProcess['waitForOutput']} */
  const waitForOutput = (text, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const settle = (/** @type {string | undefined} */ failure) => {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        if (failure === undefined) resolve();
        else reject(new Error(`${failure} before printing ${JSON.stringify(text)}:\n${stdout}\n${stderr}`));
      };
      const check = () => stdout.includes(text) && settle(undefined);
      const timer = setTimeout(() => settle(`no output after ${timeoutMs} ms`), timeoutMs);
      child.stdout?.on('data', check);
      exited.then(({ code, signal }) => settle(`exited (${signal ?? code})`));
      check();
    });
  return { child, output: () => stdout, errors: () => stderr, waitForOutput, exited };
}
