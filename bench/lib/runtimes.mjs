// The runtimes a benchmark child can run on (`run.mjs --runtime`, `--runtimes`), and the command
// that starts a script on each with a full garbage collection at hand (one.mjs collects before
// every phase).
// The binaries come from scripts/runtimes.mjs, which fetches and caches them.
import { RUNTIMES, runtimeBinary } from '../../scripts/runtimes.mjs';
import { formatRuntime } from './environment.mjs';

export const runtimeNames = Object.keys(RUNTIMES);

/** `[binary, ...args]` that runs `script` on the named runtime; without a name, on this process's own binary. */
export function runtimeCommand(name, script) {
  if (name === undefined) return [process.execPath, '--expose-gc', script];
  const binary = runtimeBinary(name);
  if (name === 'deno') return [binary, 'run', '-A', '--node-modules-dir=manual', '--v8-flags=--expose-gc', script];
  // Bun collects with Bun.gc(true), which needs no flag.
  if (name === 'bun') return [binary, script];
  return [binary, '--expose-gc', script];
}

/** Fetches every named runtime now (throwing for an unknown name), so that no download happens mid-run. */
export function prepareRuntimes(names) {
  for (const name of names) runtimeBinary(name);
}

/** How a report names a runtime: `node 24.22.3`, `bun 1.4.5`, `deno 2.9.6`. */
export function runtimeLabel(name) {
  if (RUNTIMES[name] === undefined) throw new Error(`unknown runtime ${name}: one of ${runtimeNames.join(', ')}`);
  return formatRuntime({ name: name.replace(/\d+$/, ''), version: RUNTIMES[name].version });
}
