// The benchmark runner: `node bench/run.mjs [--quick]` (via `npm run bench` / `npm run bench:quick`),
// or `node bench/run.mjs --report <results.json>` to re-render a finished run's report.
// `--contenders a,b --output name` measures only those contenders, the first as the baseline, into
// bench/results/<name>.* (bench/native/run.mjs compares viscose's two deque implementations so).
// `--runtime bun` runs every child on that runtime (lib/runtimes.mjs); `--runtimes node24,bun,deno`
// runs each chosen contender on each of those runtimes, every pair one contender of the rotation,
// the first pair the baseline. Without either, every child runs on this process's own binary.
// Each round runs every contender once, each in a fresh child process (one.mjs), in an order that
// rotates per round, after waiting for the machine to be idle; a child whose measurement another
// process disturbed is re-run. Prints the markdown report to stdout (progress goes to stderr) and
// writes it with the raw per-round data to bench/results/.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UNIT_MS, calibrate, unitEnvironment } from './lib/calibrate.mjs';
import { runChild } from './lib/child.mjs';
import { CONTAMINATION_RULE, judgeContamination } from './lib/contamination.mjs';
import { baselineName, contenderNames, contenders } from './lib/contenders.mjs';
import { describeEnvironment, formatRuntime } from './lib/environment.mjs';
import { IDLE_RULE, waitForIdle } from './lib/idle.mjs';
import { THREADS, profiles } from './lib/profiles.mjs';
import { barChart } from './lib/bar-chart.mjs';
import { formatValue, renderReport } from './lib/report.mjs';
import { prepareRuntimes, runtimeLabel } from './lib/runtimes.mjs';
import { summarize } from './lib/summary.mjs';
import { allColumns, workloads } from './lib/workloads.mjs';

/** viscose's encoder: its version moves viscose's numbers as much as viscose's own does. */
const ALSO_RECORDED_PACKAGES = ['msgpackr'];
const RESULTS = new URL('./results/', import.meta.url);

const chosen = option('--contenders')?.split(',');
const chosenRuntimes = option('--runtimes')?.split(',') ?? (option('--runtime') === undefined ? undefined : [option('--runtime')]);
const reportPath = option('--report');
if (reportPath !== undefined) {
  // Re-renders a finished run's report from its raw data, e.g. after the report format changed.
  const record = JSON.parse(readFileSync(reportPath, 'utf8'));
  const names = record.contenders ?? contenderNames;
  record.summary = summarize(record.rounds, names, record.baseline, allColumns);
  publish(record, reportPath.replace(/\.json$/, '.md'));
} else {
  const profileName = process.argv.includes('--quick') ? 'quick' : 'full';
  // A smoke run must not overwrite the published full results.
  const outputName = option('--output') ?? (profileName === 'full' ? 'latest' : profileName);
  mkdirSync(RESULTS, { recursive: true });
  const record = await measure(profileName, outputName);
  renameSync(new URL(`${outputName}.tmp.json`, RESULTS), new URL(`${outputName}.json`, RESULTS));
  publish(record, new URL(`${outputName}.md`, RESULTS));
  if (allAttempts(record).some((attempt) => !attempt.child.ok)) process.exitCode = 1;
}

/** Runs every round, saving the record to `<outputName>.tmp.json` after each; returns it summarised. */
async function measure(profileName, outputName) {
  const settings = profiles[profileName];
  const progressFile = new URL(`${outputName}.tmp.json`, RESULTS);
  const started = performance.now();
  if (chosenRuntimes !== undefined) prepareRuntimes(chosenRuntimes);
  const baselineContender = chosen?.[0] ?? baselineName;
  const runtimes = chosenRuntimes === undefined ? undefined : pairWithRuntimes(chosen ?? contenderNames, chosenRuntimes);
  const record = {
    profile: profileName,
    settings,
    threads: THREADS,
    contenders: runtimes === undefined ? (chosen ?? contenderNames) : Object.keys(runtimes),
    // With several runtimes, the baseline contender on the first of them.
    baseline:
      runtimes === undefined ? baselineContender : Object.keys(runtimes).find((name) => runtimes[name].contender === baselineContender),
    // With --runtime(s): each name of `contenders` → `{ contender, runtime }`.
    runtimes,
    rules: { idle: IDLE_RULE, contamination: CONTAMINATION_RULE },
    environment: describeEnvironment([
      ...(chosen ?? contenderNames).map((name) => contenders[name].packageName).filter(Boolean),
      ...ALSO_RECORDED_PACKAGES,
    ]),
    // One unit of CPU-bound work (workloads C and D), measured once and the same for every child.
    unitIterations: calibrate(),
    unitMs: UNIT_MS,
    configuration: {},
    rounds: [],
    rawDataPath: `bench/results/${outputName}.json`,
  };
  for (let round = 1; round <= settings.rounds; round++) {
    // Rotation spreads any drift over the run (heat, background work) across the contenders.
    const order = rotate(record.contenders, round - 1);
    const runs = {};
    for (const name of order) runs[name] = { attempts: await measureWithRetries(record, name, round) };
    record.rounds.push({ round, order, runs });
    writeFileSync(progressFile, JSON.stringify(record, null, 1));
  }
  record.durationMs = performance.now() - started;
  record.summary = summarize(record.rounds, record.contenders, record.baseline, allColumns);
  writeFileSync(progressFile, JSON.stringify(record, null, 1));
  return record;
}

/** Writes the markdown report to `markdownFile`, one SVG chart per column beside it, and prints the report. */
function publish(record, markdownFile) {
  const names = record.contenders ?? contenderNames;
  const lacks = (name, workload) => missingCapability(record.runtimes?.[name].contender ?? name, workload);
  const report = renderReport(record, { contenderNames: names, baselineName: record.baseline, columns: allColumns, workloads, lacks });
  writeFileSync(markdownFile, report);
  for (const column of allColumns) {
    const bars = names
      .map((name) => ({
        name,
        ...record.summary.cells[name][column.cell],
        highlight: (record.runtimes?.[name].contender ?? name) === 'viscose',
      }))
      .filter((bar) => bar.median !== undefined);
    if (bars.length === 0) continue;
    const chart = barChart({
      title: `${column.label}: ${column.workload.title}`.slice(0, 110),
      unit: column.unit,
      better: column.better,
      bars,
    });
    const markdownPath = markdownFile instanceof URL ? fileURLToPath(markdownFile) : markdownFile;
    writeFileSync(markdownPath.replace(/\.md$/, `-${column.cell.replace(/[^A-Za-z0-9]+/g, '-')}.svg`), chart);
  }
  process.stdout.write(report);
}

/** The value after a command-line flag, or undefined. */
function option(flag) {
  const at = process.argv.indexOf(flag);
  return at === -1 ? undefined : process.argv[at + 1];
}

/** Runs one contender until a child is clean or fails, or the attempts run out. */
async function measureWithRetries(record, name, round) {
  const { settings, profile: profileName } = record;
  const attempts = [];
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    const idle = await waitForIdle(settings.idleTimeoutMs);
    const { contender, runtime } = record.runtimes?.[name] ?? { contender: name };
    const child = await runChild(contender, profileName, settings.childTimeoutMs, unitEnvironment(record.unitIterations), runtime);
    const contamination = child.ok ? judgeContamination(child.result.results) : undefined;
    attempts.push({ idle, child, contamination });
    if (child.ok) record.configuration[name] ??= child.result.configuration;
    log(`[round ${round}/${settings.rounds}] ${name} #${attempt}`, idle, child, contamination);
    // A failure is a finding about the pool, not noise: it is reported, not retried away.
    if (!child.ok || !contamination.contaminated) break;
  }
  return attempts;
}

/**
 * `{ 'viscose · bun 1.4.5': { contender: 'viscose', runtime: 'bun' }, ... }`, contender by contender;
 * with a single runtime the contenders keep their own names (`{ viscose: { ..., runtime: 'bun' } }`).
 */
function pairWithRuntimes(contenderList, runtimeList) {
  const name = (contender, runtime) => (runtimeList.length === 1 ? contender : `${contender} · ${runtimeLabel(runtime)}`);
  const pairs = contenderList.flatMap((contender) => runtimeList.map((runtime) => [name(contender, runtime), { contender, runtime }]));
  return Object.fromEntries(pairs);
}

function missingCapability(name, workload) {
  return workload.needs === undefined ? undefined : contenders[name].lacks[workload.needs];
}

function rotate(list, by) {
  const shift = by % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

function allAttempts(record) {
  return record.rounds.flatMap((round) => Object.values(round.runs).flatMap((run) => run.attempts));
}

function log(label, idle, child, contamination) {
  const wait = `${idle.idle === false ? 'machine busy after' : 'idle after'} ${(idle.waitedMs / 1000).toFixed(1)} s`;
  const outcome = !child.ok
    ? `FAILED: ${child.failure}`
    : contamination.contaminated
      ? `contaminated (${contamination.phases.map((phase) => `${phase.workload} +${Math.round(phase.otherCpuMs)} ms`).join(', ')})`
      : 'clean';
  const figures = child.ok
    ? allColumns.flatMap((column) => {
        const metrics = child.result.results[column.workload.id]?.metrics;
        return metrics === undefined ? [] : [`${column.label} ${formatValue(metrics[column.key], column.unit)} ${column.unit}`];
      })
    : [];
  const on = child.ok ? ` on ${formatRuntime(child.result.runtime)}` : '';
  process.stderr.write(`${label}${on}: ${wait}; ${outcome}; ${figures.join(', ')}\n`);
}
