/**
 * Removes what harnesses of dead processes left behind (a run killed with SIGKILL cannot clean
 * up): their cgroups with every process inside, their namespaces, their links, their temporary
 * directories. A name's owner is
 * the pid it carries (names.mjs); resources of live owners are left alone.
 */
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeGroup } from './cgroups.mjs';
import { ownerOf } from './names.mjs';
import { alive, ip, ipQuietly } from './system.mjs';

/** @param {string} name */
const orphaned = (name) => {
  const owner = ownerOf(name);
  return owner !== undefined && owner !== process.pid && !alive(owner);
};

/**
 * Sweeps leftovers of dead harnesses.
 * @param {import('./cgroups.mjs').CpuController} controller
 */
export function sweepLeftovers(controller) {
  // Processes first (they are all in a harness cgroup), so that namespaces are free to go.
  for (const entry of readdirSync(controller.root)) {
    if (orphaned(entry)) removeGroup(join(controller.root, entry));
  }
  for (const line of ip(['netns', 'list']).split('\n')) {
    const netns = line.split(' ')[0];
    if (!netns || !orphaned(netns)) continue;
    for (const pid of ip(['netns', 'pids', netns]).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    ipQuietly(['netns', 'del', netns]);
  }
  for (const line of ip(['-o', 'link', 'show']).split('\n')) {
    const link = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (link && orphaned(link)) ipQuietly(['link', 'del', link]);
  }
  for (const entry of readdirSync(tmpdir())) {
    if (orphaned(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}
