// The record of what was measured and on what: machine, runtime, package versions, source state.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';

const REPOSITORY = new URL('../../', import.meta.url);

/** Versions of `packageNames`, read from their package.json (the repository's own for itself). */
export function packageVersions(packageNames) {
  const own = readJson(new URL('package.json', REPOSITORY));
  const versions = {};
  for (const name of packageNames) {
    versions[name] = name === own.name ? own.version : readJson(new URL(`node_modules/${name}/package.json`, REPOSITORY)).version;
  }
  return versions;
}

export function describeEnvironment(packageNames) {
  const processors = cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: processors[0]?.model ?? 'unknown',
    cpus: processors.length,
    availableParallelism: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    runtime: describeRuntime(),
    packages: packageVersions(packageNames),
    source: sourceState(),
    loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(2))),
  };
}

/**
 * The runtime this process runs on: `{ name, version, engine }`. Bun and Deno report a Node.js
 * version of their own in `process.version`, so that alone does not say what ran.
 */
export function describeRuntime() {
  if (process.versions.bun !== undefined)
    return { name: 'bun', version: process.versions.bun, engine: `JavaScriptCore ${process.versions.webkit}` };
  const deno = globalThis.Deno?.version.deno ?? process.versions.deno;
  if (deno !== undefined) return { name: 'deno', version: deno, engine: `V8 ${process.versions.v8}` };
  return { name: 'node', version: process.version.slice(1), engine: `V8 ${process.versions.v8}` };
}

/** How reports name a runtime record: `bun 1.4.5`, or with its engine `bun 1.4.5 (JavaScriptCore …)`. */
export function formatRuntime(runtime, { engine = false } = {}) {
  return engine ? `${runtime.name} ${runtime.version} (${runtime.engine})` : `${runtime.name} ${runtime.version}`;
}

/** The commit, and the files under src/ that differ from it: the numbers belong to that tree. */
function sourceState() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: REPOSITORY, encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean);
    return { commit: git('rev-parse', '--short', 'HEAD'), uncommittedSrcChanges: changed };
  } catch {
    return { commit: null, uncommittedSrcChanges: null };
  }
}

function readJson(url) {
  return JSON.parse(readFileSync(url, 'utf8'));
}
