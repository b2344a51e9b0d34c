// Reduces the rounds to table cells: per contender and cell, the median and min–max over rounds;
// per non-baseline contender, the same over per-round ratios to the baseline. Ratios are taken
// within a round first, so that a slow round slows both sides of its ratio alike.
import { spread } from './stats.mjs';

/** The attempt whose numbers a round uses: the first clean one, else the least contaminated. */
export function acceptedAttempt(attempts) {
  const measured = attempts.filter((attempt) => attempt.child.ok);
  if (measured.length === 0) return undefined;
  const clean = measured.find((attempt) => !attempt.contamination.contaminated);
  return clean ?? measured.reduce((best, attempt) => (attempt.contamination.otherCpuMs < best.contamination.otherCpuMs ? attempt : best));
}

/** A cell's value in an accepted attempt, or undefined when the contender did not run it. */
export function cellValue(attempt, cell) {
  const [workloadId, key] = cell.split('/');
  return attempt?.child.result.results[workloadId]?.metrics[key];
}

/**
 * `{ cells: { [contender]: { [cell]: spread } }, ratios: { [contender]: { [cell]: { ...spread,
 * fallback } } } }` where `fallback` is the column's baselineFallback when the baseline lacked
 * the cell itself.
 */
export function summarize(rounds, contenderNames, baselineName, columns) {
  const accepted = rounds.map((round) =>
    Object.fromEntries(contenderNames.map((name) => [name, acceptedAttempt(round.runs[name].attempts)])),
  );
  const cells = {};
  for (const name of contenderNames) {
    cells[name] = {};
    for (const { cell } of columns) cells[name][cell] = spread(defined(accepted.map((round) => cellValue(round[name], cell))));
  }
  const ratios = {};
  for (const name of contenderNames.filter((candidate) => candidate !== baselineName)) {
    ratios[name] = {};
    for (const { cell, baselineFallback } of columns) {
      const useFallback = cells[baselineName][cell] === undefined && baselineFallback !== undefined;
      const baselineCell = useFallback ? baselineFallback.cell : cell;
      const perRound = accepted.map((round) => cellValue(round[name], cell) / cellValue(round[baselineName], baselineCell));
      const values = perRound.filter(Number.isFinite);
      ratios[name][cell] = values.length === 0 ? undefined : { ...spread(values), fallback: useFallback ? baselineFallback : undefined };
    }
  }
  return { cells, ratios };
}

function defined(values) {
  return values.filter((value) => value !== undefined);
}
