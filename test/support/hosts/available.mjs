/**
 * Whether this machine can run simulated hosts: root, `ip`, UTS namespaces, network namespaces,
 * bridges, veth pairs, a writable cgroup cpu controller, and a C compiler for the delaying proxy.
 * Tried for real, once per process, with throw-away resources named like a harness's (so that a
 * run killed midway leaves nothing the next sweep would not remove).
 */
import { execFileSync } from 'node:child_process';
import { delayProxyMissing } from './delay-proxy.mjs';
import { createGroup, createLeaf, findCpuController, removeGroup } from './cgroups.mjs';
import { harnessNames } from './names.mjs';
import { ip, ipQuietly } from './system.mjs';

/** @typedef {{ ok: true } | { ok: false, why: string }} Availability */

/** @type {Availability | undefined} */
let known;

/**
 * Says whether simulated hosts work here, and if not, why (one line).
 * @returns {Availability}
 */
export function hostsAvailable() {
  known ??= probe();
  return known;
}

/** @returns {Availability} */
function probe() {
  if (process.platform !== 'linux') return { ok: false, why: `simulated hosts need Linux, not ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'simulated hosts need root (network namespaces, cgroups)' };
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return { ok: false, why: 'the ip command is missing (apt-get install iproute2)' };
  }
  const proxy = delayProxyMissing();
  if (proxy !== undefined) return { ok: false, why: proxy };
  try {
    execFileSync('unshare', ['--uts', 'hostname', 'probe'], { stdio: 'ignore' });
  } catch {
    return { ok: false, why: 'unshare --uts with hostname fails (util-linux, hostname)' };
  }
  const controller = findCpuController();
  if ('why' in controller) return { ok: false, why: controller.why };
  // Serial 0 is never a harness's (their serials start at 1).
  const names = harnessNames(process.pid, 0);
  const netns = names.netns('probe');
  try {
    ip(['netns', 'add', netns]);
    ip(['link', 'add', names.bridge, 'type', 'bridge']);
    ip(['link', 'add', names.link(0), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  } catch (error) {
    return { ok: false, why: `network namespaces, bridges or veth pairs are not allowed: ${/** @type {Error} */ (error).message}` };
  } finally {
    ipQuietly(['link', 'del', names.link(0)]);
    ipQuietly(['link', 'del', names.bridge]);
    ipQuietly(['netns', 'del', netns]);
  }
  try {
    createLeaf(controller, createGroup(controller, names.cgroup), 'probe', 0.5);
  } catch (error) {
    return { ok: false, why: `the cgroup cpu controller at ${controller.root} is not writable: ${/** @type {Error} */ (error).message}` };
  } finally {
    removeGroup(`${controller.root}/${names.cgroup}`);
  }
  return { ok: true };
}
