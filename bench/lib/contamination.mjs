// Decides whether another process disturbed a child's measurement: during each measured phase, the
// machine's busy CPU time minus the child's own CPU time is what everyone else used.

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
  }));
  if (phases.some((phase) => phase.otherCpuMs === null)) return { checked: false, contaminated: false, otherCpuMs: null, phases: [] };
  const over = phases.filter((phase) => phase.otherCpuMs > phase.limitMs);
  return { checked: true, contaminated: over.length > 0, otherCpuMs: Math.max(...phases.map((phase) => phase.otherCpuMs)), phases: over };
}
