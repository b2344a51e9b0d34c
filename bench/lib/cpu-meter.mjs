// Machine-wide CPU accounting from /proc/stat, to tell whether other processes ran during a
// measurement (the child compares it with its own process.cpuUsage()) and whether the machine is
// idle before a child starts. Off Linux there is no /proc/stat and every figure is null.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** Starts a phase; `end()` returns its wall time, this process's CPU and everyone's CPU, in ms. */
export function startPhase() {
  const machine = readMachineTicks();
  const own = process.cpuUsage();
  const start = performance.now();
  return {
    end() {
      const wallMs = performance.now() - start;
      const { user, system } = process.cpuUsage(own);
      const after = readMachineTicks();
      const ownCpuMs = (user + system) / 1000;
      const share = tickShares(machine, after);
      if (share === undefined) return { wallMs, ownCpuMs, machineBusyMs: null, otherCpuMs: null, stealMs: null };
      // Ticks are 10 ms coarse; scaling the busy share by the wall time keeps the units exact.
      const machineBusyMs = share.busy * cpuCount() * wallMs;
      return { wallMs, ownCpuMs, machineBusyMs, otherCpuMs: machineBusyMs - ownCpuMs, stealMs: share.steal * cpuCount() * wallMs };
    },
  };
}

/** Busy cores, machine-wide, averaged over the next `ms` milliseconds; null off Linux. */
export async function busyCores(ms) {
  const before = readMachineTicks();
  await sleep(ms);
  const share = tickShares(before, readMachineTicks());
  return share === undefined ? null : share.busy * cpuCount();
}

function cpuCount() {
  return cpus().length;
}

/** Fractions of all CPU time between two readings that were busy and stolen by the hypervisor. */
function tickShares(before, after) {
  if (before === undefined || after === undefined) return undefined;
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return { busy: (after.busy - before.busy) / total, steal: (after.steal - before.steal) / total };
}

/** The aggregate `cpu` line of /proc/stat, in ticks. guest time is already inside user time. */
function readMachineTicks() {
  let text;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  const busy = user + nice + system + irq + softirq;
  return { busy, steal, total: busy + idle + iowait + steal };
}

/**
 * A reader of the CPU time the calling (main) thread has used, in microseconds: what a pool takes
 * from its embedder's event loop, workers excluded. `process.threadCpuUsage()` (Node 23.9+) reads
 * it exactly; elsewhere the main thread's event-loop active time stands in (the loop is active
 * while it runs JavaScript, the pool's included, and it never blocks here), and where neither
 * exists the reader is null.
 */
export function mainThreadCpu() {
  if (typeof process.threadCpuUsage === 'function') {
    return {
      method: 'process.threadCpuUsage',
      read: () => {
        const { user, system } = process.threadCpuUsage();
        return user + system;
      },
    };
  }
  if (typeof performance.eventLoopUtilization === 'function') {
    return { method: 'event-loop active time', read: () => performance.eventLoopUtilization().active * 1000 };
  }
  return null;
}
