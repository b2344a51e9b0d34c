// Checks the Promela models in models/ exhaustively with spin (Debian package `spin`) and gcc: each
// model as written must hold, and each seeded bug must be caught, which shows that the model can
// fail. Prints one line per run and writes test-results/models.json for the CI summary.
// `npm run verify:models`
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const models = resolve(import.meta.dirname, '..', 'models');
const runs = [
  { model: 'deque.pml', expect: 'holds' },
  { model: 'deque.pml', bug: 'BUG_ADVANCE_BEFORE_CLAIM', expect: 'fails' },
  { model: 'deque.pml', bug: 'BUG_NO_TOP_RECHECK', expect: 'fails' },
  { model: 'deque.pml', bug: 'BUG_POP_NO_CAS', expect: 'fails' },
  { model: 'scope.pml', expect: 'holds' },
  { model: 'scope.pml', bug: 'BUG_NO_MARK', expect: 'fails' },
  { model: 'scope.pml', bug: 'BUG_NO_CHANGING', expect: 'fails' },
  { model: 'sleep.pml', expect: 'holds' },
  { model: 'sleep.pml', bug: 'BUG_NOTIFY_BEFORE_PUSH', expect: 'fails' },
  { model: 'sleep.pml', bug: 'BUG_NO_RECHECK', expect: 'fails' },
  { model: 'sleep.pml', bug: 'BUG_NO_FINAL_CHECK', expect: 'fails' },
];

function have(command) {
  try {
    execFileSync(command, ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let passed = 0;
let failed = 0;
if (!have('spin')) {
  console.log('spin is not installed (Debian: apt-get install spin): the models cannot be checked');
  failed = runs.length;
} else {
  const work = mkdtempSync(join(tmpdir(), 'viscose-models-'));
  try {
    for (const run of runs) {
      const dir = join(work, `${run.model}-${run.bug ?? 'as-written'}`);
      mkdirSync(dir);
      const label = `${run.model}${run.bug ? ` with ${run.bug}` : ''}`;
      const started = performance.now();
      let outcome;
      try {
        execFileSync('spin', [...(run.bug ? [`-D${run.bug}`] : []), '-a', join(models, run.model)], { cwd: dir, stdio: 'pipe' });
        // Safety properties only; states stored compressed; give up rather than swap past 6 GB.
        execFileSync('gcc', ['-O2', '-DSAFETY', '-DCOLLAPSE', '-DMEMLIM=6000', '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
        let output;
        try {
          output = execFileSync('./pan', ['-m1000000'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
        } catch (error) {
          output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
        }
        const errors = Number(/errors: (\d+)/.exec(output)?.[1] ?? NaN);
        const states = /(\d+) states, stored/.exec(output)?.[1] ?? '?';
        const complete = !/max search depth too small|out of memory|error: max search depth/i.test(output);
        if (Number.isNaN(errors)) outcome = { ok: false, detail: `no verdict from pan:\n${output.slice(-2000)}` };
        else if (run.expect === 'holds') outcome = { ok: errors === 0 && complete, detail: `${errors} errors, ${states} states${complete ? '' : ', search incomplete'}` };
        else outcome = { ok: errors > 0, detail: errors > 0 ? `caught (${/pan:1: ([^\n]*)/.exec(output)?.[1] ?? 'violation'})` : `NOT caught, ${states} states` };
      } catch (error) {
        outcome = { ok: false, detail: `could not build or run: ${error.message}` };
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`${outcome.ok ? 'ok  ' : 'FAIL'} ${label}: ${run.expect === 'holds' ? 'holds' : 'must fail'}, ${outcome.detail} (${seconds} s)`);
      if (outcome.ok) passed++;
      else failed++;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
mkdirSync('test-results', { recursive: true });
writeFileSync('test-results/models.json', JSON.stringify({ passed, failed }));
console.log(`models: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
