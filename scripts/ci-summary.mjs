// Adds up the test runs of a CI run, one per runtime, and prints "N passed, N failed" as the last
// line; exits with a failing status when anything failed or a report is missing.
//
//   node scripts/ci-summary.mjs <label>=<report.json>:<exit status> ...
//
// A report of `-` stands for a check without tests (the linter): only its status counts.
//
// A report is vitest's JSON report (numPassedTests, numFailedTests, numPendingTests, testResults).
// A run whose command failed without a failed test to show for it (a build error, a crash, a
// missing report) counts as one failure, and so does a test file that failed to load.
//
// Each failed test is named, with the first line of its message, just above the counts: a CI log is
// often read only by its tail, and the runs before it push vitest's own report of a failure far up.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

let passed = 0;
let failed = 0;
const failures = [];

/** The first line of a failure message, short enough to read in a log's tail. */
function firstLine(message) {
  const line = String(message ?? 'no message').split('\n', 1)[0];
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
for (const run of process.argv.slice(2)) {
  const match = /^([^=]+)=(.*):(\d+)$/.exec(run);
  if (match === null) throw new Error(`not <label>=<report>:<status>: ${run}`);
  const [, label, reportPath, status] = match;
  let counts = { passed: 0, failed: 0, skipped: 0 };
  if (reportPath === '-') {
    // A check with no test report (the linter): it passed or it counts as one failure.
    const failedCheck = Number(status) !== 0;
    console.log(`${label}: ${failedCheck ? `failed with status ${status}` : 'passed'}`);
    failed += failedCheck ? 1 : 0;
    continue;
  }
  if (existsSync(reportPath)) {
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    counts = { passed: report.numPassedTests ?? 0, failed: report.numFailedTests ?? 0, skipped: report.numPendingTests ?? 0 };
    for (const file of report.testResults ?? []) {
      if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) {
        counts.failed++;
        failures.push(`${label}: ${relative(process.cwd(), file.name)}: ${firstLine(file.message)}`);
      }
      for (const test of file.assertionResults ?? []) {
        if (test.status !== 'failed') continue;
        const message = firstLine(test.failureMessages?.[0]);
        failures.push(`${label}: ${relative(process.cwd(), file.name)} > ${test.fullName}: ${message}`);
      }
    }
  }
  const problem = !existsSync(reportPath)
    ? ', no test report'
    : counts.failed === 0 && Number(status) !== 0
      ? `, but the run exited with status ${status}`
      : '';
  if (problem !== '' && counts.failed === 0) counts.failed = 1;
  console.log(`${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${problem}`);
  passed += counts.passed;
  failed += counts.failed;
}
for (const failure of failures) console.log(`failed: ${failure}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
