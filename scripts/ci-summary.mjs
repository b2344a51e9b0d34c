// Prints "N passed, N failed" from vitest's JSON report and the protocol model checks
// (test-results/models.json, written by scripts/verify-models.mjs) — the last line of a CI run —
// and exits with a failing status when anything failed or a report is missing.
import { existsSync, readFileSync } from 'node:fs';

const [reportPath, testStatus = '0'] = process.argv.slice(2);
if (!reportPath || !existsSync(reportPath)) {
  console.log(`no test report at ${reportPath}; the test command exited with status ${testStatus}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
let passed = report.numPassedTests ?? 0;
let failed = report.numFailedTests ?? 0;
// A file that fails to load has no tests to count: count the file itself as a failure.
for (const file of report.testResults ?? []) {
  if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed++;
}
if (failed === 0 && Number(testStatus) !== 0) failed = 1;
const modelsPath = 'test-results/models.json';
if (existsSync(modelsPath)) {
  const models = JSON.parse(readFileSync(modelsPath, 'utf8'));
  passed += models.passed;
  failed += models.failed;
} else {
  console.log(`no model report at ${modelsPath}`);
  failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
