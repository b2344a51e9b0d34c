// Decides whether another process disturbed a child's measurement: during each measured phase, the
// machine's busy CPU time minus the child's own CPU time is what everyone else used.
import { cpus } from 'node:os';

const MIN_LIMIT_MS = 50;
const SHARE_LIMIT = 0.15;

export const CONTAMINATION_RULE = `other processes used more than max(${MIN_LIMIT_MS} ms, ${SHARE_LIMIT * 100}% of the phase's wall time) of CPU during a measured phase`;

/**
 * `{ checked, contaminated, otherCpuMs, phases }` for a child's results, where `otherCpuMs` is the
 * worst phase's and `phases` lists every phase over its limit. Unchecked off Linux.
 */
export function judgeContamination(results) {
  const phases = Object.entries(results).map(([workload, { cpu }]) => ({
    workload,
    otherCpuMs: cpu.otherCpuMs,
    limitMs: Math.max(MIN_LIMIT_MS, SHARE_LIMIT * cpu.wallMs),
    // Even every core busy for the whole phase: a phase shorter than a /proc/stat tick has no
    // reading (Bun's B can take 4 ms), but under this bound it cannot break the rule either.
    ceilingMs: cpus().length * cpu.wallMs,
  }));
  const read = phases.filter((phase) => phase.otherCpuMs !== null);
  if (phases.some((phase) => phase.otherCpuMs === null && phase.ceilingMs > phase.limitMs)) {
    return { checked: false, contaminated: false, otherCpuMs: null, phases: [] };
  }
  const over = read.filter((phase) => phase.otherCpuMs > phase.limitMs);
  return {
    checked: true,
    contaminated: over.length > 0,
    otherCpuMs: read.length === 0 ? null : Math.max(...read.map((phase) => phase.otherCpuMs)),
    phases: over,
  };
}
