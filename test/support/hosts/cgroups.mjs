/**
 * CPU quotas for the simulated hosts: one cgroup directory per harness, with one child per host
 * (and one, without a quota, for the harness's own services: Redis and the delaying proxies), so
 * that every process the harness starts is in a cgroup it owns and can be found and killed by it.
 * Works with the cgroup v1 `cpu` controller (cpu.cfs_quota_us / cpu.cfs_period_us) and with
 * cgroup v2 (cpu.max); v1 wins on a hybrid machine, where v2 usually has no cpu controller.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleepSync } from './system.mjs';

/** The scheduler period a quota is a share of (the kernel's default, 100 ms). */
const PERIOD_US = 100_000;

/**
 * @typedef {{ version: 1 | 2, root: string }} CpuController
 * Where the cpu controller is mounted, and which interface it speaks.
 */

/**
 * Finds the cpu controller, or says why there is none.
 * @returns {CpuController | { why: string }}
 */
export function findCpuController() {
  for (const root of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    if (existsSync(join(root, 'cpu.cfs_quota_us'))) return { version: 1, root };
  }
  const v2 = '/sys/fs/cgroup';
  const controllers = join(v2, 'cgroup.controllers');
  if (existsSync(controllers) && readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu')) return { version: 2, root: v2 };
  return { why: 'no cgroup cpu controller (neither /sys/fs/cgroup/cpu/cpu.cfs_quota_us nor cpu in /sys/fs/cgroup/cgroup.controllers)' };
}

/**
 * Creates the cgroup directory `name` under the controller's root, able to hold per-host children.
 * @param {CpuController} controller
 * @param {string} name
 * @returns {string} its path
 */
export function createGroup(controller, name) {
  const path = join(controller.root, name);
  if (controller.version === 2) writeFileSync(join(controller.root, 'cgroup.subtree_control'), '+cpu');
  mkdirSync(path);
  if (controller.version === 2) writeFileSync(join(path, 'cgroup.subtree_control'), '+cpu');
  return path;
}

/**
 * Creates a child cgroup of `group` limited to `cpus` cores (a fraction allowed; no limit when
 * undefined).
 * @param {CpuController} controller
 * @param {string} group
 * @param {string} name
 * @param {number | undefined} cpus
 * @returns {string} its path
 */
export function createLeaf(controller, group, name, cpus) {
  const path = join(group, name);
  mkdirSync(path);
  if (cpus !== undefined) {
    if (!(cpus > 0)) throw new RangeError(`cpus must be a positive number of cores, not ${cpus}`);
    const quota = String(Math.max(1000, Math.round(cpus * PERIOD_US)));
    if (controller.version === 1) {
      writeFileSync(join(path, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(path, 'cpu.cfs_quota_us'), quota);
    } else {
      writeFileSync(join(path, 'cpu.max'), `${quota} ${PERIOD_US}`);
    }
  }
  return path;
}

/** The pids in cgroup `path` (none when it is gone). */
export function pidsIn(/** @type {string} */ path) {
  try {
    return readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILLs every process in cgroup `path`, and waits (up to 5 s) until they are gone. */
export function killAllIn(/** @type {string} */ path) {
  for (let waited = 0; waited < 5000; waited += 10) {
    const pids = pidsIn(path);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    sleepSync(10);
  }
}

/** Kills the processes of a harness's cgroup and of its children, then removes them all. */
export function removeGroup(/** @type {string} */ group) {
  if (!existsSync(group)) return;
  for (const entry of readdirSync(group)) {
    const child = join(group, entry);
    if (!statSync(child).isDirectory()) continue;
    killAllIn(child);
    rmdirQuietly(child);
  }
  killAllIn(group);
  rmdirQuietly(group);
}

/** rmdir, retried briefly: a cgroup whose last process just died may still be busy for a moment. */
function rmdirQuietly(/** @type {string} */ path) {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      rmdirSync(path);
      return;
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return;
      sleepSync(10);
    }
  }
}
