// The Promela models in models/, checked exhaustively with spin and gcc: each model as written must
// hold, and each seeded bug must be caught, which shows that the model can fail. Without spin these
// checks skip (test/support/services.ts says so once); `npm run verify:models` runs them alone.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';

const models = fileURLToPath(new URL('../../models/', import.meta.url));

/** Each model, and the bugs it must catch when they are compiled in (`-D<bug>`). */
const CHECKS = {
  'deque.pml': ['BUG_ADVANCE_BEFORE_CLAIM', 'BUG_NO_TOP_RECHECK', 'BUG_POP_NO_CAS'],
  'scope.pml': ['BUG_NO_MARK', 'BUG_NO_CHANGING'],
  'sleep.pml': ['BUG_NOTIFY_BEFORE_PUSH', 'BUG_NO_RECHECK', 'BUG_NO_FINAL_CHECK'],
  'fifo.pml': ['BUG_NO_LANE_DRAIN', 'BUG_NEWEST_FROM_LANE'],
  'retire.pml': ['BUG_CHECK_THEN_POST', 'BUG_NO_FINAL_LOOK', 'BUG_PRESENT_LOAD_STORE'],
};

interface Verdict {
  errors: number;
  states: string;
  /** False when pan gave up (depth or memory) before exploring every state. */
  complete: boolean;
  output: string;
}

const work = mkdtempSync(join(tmpdir(), 'viscose-models-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Generates the verifier for a model (with a bug compiled in, or none), builds it and runs it. */
function verify(model: string, bug?: string): Verdict {
  const dir = mkdtempSync(join(work, `${model}-${bug ?? 'as-written'}-`));
  execFileSync('spin', [...(bug ? [`-D${bug}`] : []), '-a', join(models, model)], { cwd: dir, stdio: 'pipe' });
  // Safety properties only; states stored compressed; give up rather than swap past 6 GB.
  execFileSync('gcc', ['-O2', '-DSAFETY', '-DCOLLAPSE', '-DMEMLIM=6000', '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
  let output: string;
  try {
    output = execFileSync('./pan', ['-m1000000'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (error) {
    // pan exits non-zero when it finds a violation.
    const failed = error as { stdout?: string; stderr?: string };
    output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
  const errors = /errors: (\d+)/.exec(output)?.[1];
  if (errors === undefined) throw new Error(`no verdict from pan:\n${output.slice(-2000)}`);
  return {
    errors: Number(errors),
    states: /(\d+) states, stored/.exec(output)?.[1] ?? '?',
    complete: !/max search depth too small|out of memory|error: max search depth/i.test(output),
    output,
  };
}

describe.skipIf(!inject('services').spin)('protocol models', { timeout: 600_000 }, () => {
  for (const [model, bugs] of Object.entries(CHECKS)) {
    it(`${model} holds in every reachable state`, () => {
      const verdict = verify(model);
      expect(verdict.errors, verdict.output).toBe(0);
      expect(verdict.complete, `search incomplete after ${verdict.states} states`).toBe(true);
    });
    for (const bug of bugs) {
      it(`${model} with ${bug} is caught`, () => {
        const verdict = verify(model, bug);
        expect(verdict.errors, `not caught in ${verdict.states} states`).toBeGreaterThan(0);
      });
    }
  }
});
