// Renders a run record as markdown: results, min–max, per-round values, configuration,
// environment and run health. Everything here is derived from the record written to JSON.
import { formatRuntime } from './environment.mjs';
import { profiles } from './profiles.mjs';
import { acceptedAttempt, cellValue } from './summary.mjs';

/** The whole report, from a run record (see run.mjs) and the registries it was made with. */
export function renderReport(record, { contenderNames, baselineName, columns, workloads, lacks }) {
  const others = contenderNames.filter((name) => name !== baselineName);
  const on = runtimesSuffix(record, contenderNames);
  return [
    `# viscose benchmark: ${contenderNames.join(' vs ')}, ${record.threads} worker threads each${on}`,
    '',
    runLine(record),
    '',
    cleanRoundsLine(record, contenderNames),
    '',
    `## Results (median of ${record.rounds.length} rounds)${on}`,
    '',
    ...table(
      record,
      columns,
      contenderNames,
      others,
      lacks,
      (stat) => formatValue(stat.median, stat.unit),
      (stat) => formatRatio(stat.median),
    ),
    ...fallbackNotes(record, others, columns),
    '',
    ...missingNotes(contenderNames, workloads, lacks),
    `Ratios divide each contender by ${baselineName}, within each round, then take the median over rounds: above 1 is better for ↑ columns (tasks/s, efficiency), below 1 is better for ↓ columns (µs, ms).`,
    '',
    `## Min–max over rounds${on}`,
    '',
    ...table(
      record,
      columns,
      contenderNames,
      others,
      lacks,
      (stat) => `${formatValue(stat.min, stat.unit)}–${formatValue(stat.max, stat.unit)}`,
      (stat) => `${formatRatio(stat.min)}–${formatRatio(stat.max)}`,
    ),
    '',
    `## Per round (the attempt each round used)${on}`,
    '',
    ...perRoundTable(record, columns, contenderNames),
    '',
    '## Workloads',
    '',
    ...workloads.map((workload) => workloadLine(workload, record.profile)),
    '',
    '## Configuration',
    '',
    ...configurationTable(record, contenderNames),
    '',
    '## Environment',
    '',
    ...environmentTable(record.environment),
    '',
    '## Run health',
    '',
    ...healthLines(record, contenderNames),
    '',
  ].join('\n');
}

function runLine(record) {
  const attempts = allAttempts(record);
  const reRuns = attempts.length - record.rounds.length * Object.keys(record.rounds[0].runs).length;
  const contaminated = attempts.filter((attempt) => attempt.contamination?.contaminated).length;
  const failed = attempts.filter((attempt) => !attempt.child.ok).length;
  return (
    `Profile **${record.profile}**: ${record.rounds.length} rounds, ${attempts.length} child runs ` +
    `(${reRuns} re-runs, ${contaminated} contaminated, ${failed} failed), ${formatDuration(record.durationMs)}, ` +
    `started ${record.environment.date}. Raw per-round data: \`${record.rawDataPath}\`.`
  );
}

/** Rounds whose numbers come from a clean attempt: the medians are only as good as these. */
function cleanRoundsLine(record, contenderNames) {
  const counts = contenderNames.map((name) => {
    const clean = record.rounds.filter((round) => {
      const attempt = acceptedAttempt(round.runs[name].attempts);
      return attempt?.contamination.checked === true && !attempt.contamination.contaminated;
    });
    return `${name} ${clean.length}/${record.rounds.length}`;
  });
  return `Rounds measured clean (see Run health): ${counts.join(', ')}.`;
}

function table(record, columns, contenderNames, others, lacks, formatStat, formatRatioStat) {
  const header = `| Contender | ${columns.map((column) => `${column.label} ${column.unit} ${column.better === 'higher' ? '↑' : '↓'}`).join(' | ')} |`;
  const align = `|---|${columns.map(() => '---:').join('|')}|`;
  const rows = contenderNames.map((name) => {
    const cells = columns.map((column) => {
      const stat = record.summary.cells[name][column.cell];
      if (stat !== undefined) return formatStat({ ...stat, unit: column.unit });
      const missing = lacks(name, column.workload);
      return missing === undefined ? 'failed' : 'n/a';
    });
    return `| ${name} | ${cells.join(' | ')} |`;
  });
  const ratioRows = others.map((name) => {
    const cells = columns.map((column) => {
      const stat = record.summary.ratios[name][column.cell];
      if (stat === undefined) return '—';
      return stat.fallback === undefined ? formatRatioStat(stat) : `${formatRatioStat(stat)} ¹`;
    });
    return `| ${name} ÷ ${record.baseline} | ${cells.join(' | ')} |`;
  });
  return [header, align, ...rows, ...ratioRows];
}

/** Why a contender has no figure for a workload (its `n/a` cells), once per contender and reason. */
function missingNotes(contenderNames, workloads, lacks) {
  const notes = new Set();
  for (const name of contenderNames) {
    for (const workload of workloads) {
      const missing = lacks(name, workload);
      if (missing !== undefined) notes.add(`n/a for ${name}: ${missing}.`);
    }
  }
  return notes.size === 0 ? [] : [[...notes].join(' '), ''];
}

function fallbackNotes(record, others, columns) {
  const notes = columns.filter((column) => others.some((name) => record.summary.ratios[name][column.cell]?.fallback !== undefined));
  return notes.map((column) => `\n¹ ${column.label}: ${column.baselineFallback.why}.`);
}

function perRoundTable(record, columns, contenderNames) {
  const header = `| Round | Contender | Order | Attempts | ${columns.map((column) => `${column.label} ${column.unit}`).join(' | ')} | worst other-CPU ms | clean |`;
  const align = `|---:|---|---:|---:|${columns.map(() => '---:').join('|')}|---:|---|`;
  const rows = [];
  for (const round of record.rounds) {
    for (const name of contenderNames) {
      const { attempts } = round.runs[name];
      const attempt = acceptedAttempt(attempts);
      const values = columns.map((column) => {
        const value = cellValue(attempt, column.cell);
        return value === undefined ? '—' : formatValue(value, column.unit);
      });
      const other = attempt?.contamination.otherCpuMs;
      const clean =
        attempt === undefined ? 'failed' : !attempt.contamination.checked ? 'unchecked' : attempt.contamination.contaminated ? 'no' : 'yes';
      const position = round.order.indexOf(name) + 1;
      rows.push(
        `| ${round.round} | ${name} | ${position} | ${attempts.length} | ${values.join(' | ')} | ${other == null ? '—' : formatValue(other, 'ms')} | ${clean} |`,
      );
    }
  }
  return [header, align, ...rows];
}

function workloadLine(workload, profile) {
  const { count, warmup } = workload.sizes[profile];
  const needs = workload.needs === undefined ? '' : ` Needs: ${workload.needs}.`;
  const warmupMs = (workload.warmupMs?.[profile] ?? profiles[profile].warmupMs).toLocaleString('en-US');
  return `- **${workload.id}** (${count.toLocaleString('en-US')} tasks, after a warm-up of at least ${warmupMs} ms in runs of ${warmup.toLocaleString('en-US')}): ${workload.title}.${needs}`;
}

function configurationTable(record, contenderNames) {
  const lines = ['| Contender | Runtime | Construction | Calls | Resolved options |', '|---|---|---|---|---|'];
  for (const name of contenderNames) {
    const configuration = record.configuration[name];
    if (configuration === undefined) {
      lines.push(`| ${name} | | (no child finished) | | |`);
      continue;
    }
    const resolved = Object.entries(configuration.resolved)
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
      .join(', ');
    lines.push(
      `| ${name} | ${childRuntime(record, name)} | \`${configuration.construction}\` | \`${configuration.calls}\` | ${escapePipes(resolved)} |`,
    );
  }
  return lines;
}

/** The runtime the contender's children reported running on (records from before it say "—"). */
function childRuntime(record, name) {
  const [runtime] = childRuntimes(record, [name]);
  return runtime === undefined ? '—' : formatRuntime(runtime, { engine: true });
}

/**
 * The runtimes the children of `contenderNames` reported running on, each once, in the order the
 * contenders are listed (several only when a contender's children disagree, or with --runtimes).
 */
export function childRuntimes(record, contenderNames) {
  const seen = new Map();
  for (const name of contenderNames) {
    for (const round of record.rounds) {
      for (const attempt of round.runs[name]?.attempts ?? []) {
        const runtime = attempt.child.ok ? attempt.child.result.runtime : undefined;
        if (runtime !== undefined) seen.set(formatRuntime(runtime, { engine: true }), runtime);
      }
    }
  }
  return [...seen.values()];
}

/** ` — on node 24.22.3` (or several runtimes) for the headings above the figures; empty for old records. */
function runtimesSuffix(record, contenderNames) {
  const runtimes = childRuntimes(record, contenderNames);
  return runtimes.length === 0 ? '' : ` — on ${runtimes.map((runtime) => formatRuntime(runtime)).join(', ')}`;
}

function environmentTable(environment) {
  const rows = [
    ['CPU', `${environment.cpuModel}, ${environment.cpus} CPUs (availableParallelism ${environment.availableParallelism})`],
    ['memory', `${environment.memoryGiB} GiB`],
    ['OS', environment.os],
    [
      'runner',
      environment.runtime === undefined
        ? `Node ${environment.node} (V8 ${environment.v8})`
        : formatRuntime(environment.runtime, { engine: true }),
    ],
    ...Object.entries(environment.packages).map(([name, version]) => [name, version]),
    ['source', `${environment.source.commit ?? 'unknown'}${dirtySuffix(environment.source.uncommittedSrcChanges)}`],
    ['load average at start', environment.loadAverageAtStart.join(', ')],
  ];
  return ['| Item | Value |', '|---|---|', ...rows.map(([item, value]) => `| ${item} | ${escapePipes(String(value))} |`)];
}

function dirtySuffix(changes) {
  if (changes === null) return '';
  return changes.length === 0 ? ' (src/ clean)' : ` + uncommitted src/ changes: ${changes.join('; ')}`;
}

function healthLines(record, contenderNames) {
  const lines = [];
  const attempts = allAttempts(record);
  const idleCount = attempts.filter((attempt) => attempt.idle.idle).length;
  const longestWait = Math.max(...attempts.map((attempt) => attempt.idle.waitedMs));
  lines.push(
    `- Idle wait (${record.rules.idle}, up to ${formatDuration(record.settings.idleTimeoutMs)}): ${idleCount} of ${attempts.length} children started on an idle machine; longest wait ${formatDuration(longestWait)}.`,
  );
  const retryPolicy =
    record.settings.attempts > 1
      ? `a contaminated child is re-run, up to ${record.settings.attempts} attempts, and the round keeps the least contaminated one`
      : 'this profile flags contaminated children without re-running them';
  lines.push(`- Contamination rule: ${record.rules.contamination}; ${retryPolicy}.`);
  for (const round of record.rounds) {
    for (const name of contenderNames) {
      round.runs[name].attempts.forEach((attempt, index) => {
        const label = `round ${round.round}, ${name}, attempt ${index + 1}`;
        if (!attempt.child.ok)
          lines.push(`- **Failed**: ${label}: ${attempt.child.failure}. stderr: \`${oneLine(attempt.child.stderrTail)}\``);
        else if (attempt.contamination.contaminated)
          lines.push(
            `- Contaminated: ${label}: ${attempt.contamination.phases.map((phase) => `${phase.workload} ${Math.round(phase.otherCpuMs)} ms > ${Math.round(phase.limitMs)} ms`).join(', ')}.`,
          );
        if (attempt.child.ok && !attempt.child.result.close.settled) lines.push(`- close() did not settle: ${label}.`);
        if (!attempt.child.exit.onItsOwn) lines.push(`- Killed: ${label}: ${attempt.child.exit.killedBecause}.`);
      });
    }
  }
  return lines;
}

function allAttempts(record) {
  return record.rounds.flatMap((round) => Object.values(round.runs).flatMap((run) => run.attempts));
}

/** A figure as the tables print it in its unit. */
export function formatValue(value, unit) {
  if (unit === '×') return value.toFixed(2);
  if (unit === 'µs' && value < 1000) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

function formatRatio(value) {
  // Two significant digits for small ratios (the main thread's round trip is ~0.003× a pool's).
  return `${value < 0.1 ? value.toPrecision(2) : value.toFixed(2)}×`;
}

function formatDuration(ms) {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function escapePipes(text) {
  return text.replaceAll('|', '\\|');
}

function oneLine(text) {
  return text.trim().split('\n').slice(-3).join(' ⏎ ').replaceAll('`', "'");
}
