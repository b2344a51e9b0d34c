// CommonJS programs and task modules: `require('viscose')`, `require('viscose/worker')` and
// `require('viscose/bullmq')` from a project that depends on the package (linked into its
// node_modules), on the runtime the suite runs on.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtime } from '../support/runtime.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/commonjs/', import.meta.url));

describe('CommonJS', () => {
  let project: string;

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'viscose-cjs-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(root, join(project, 'node_modules', 'viscose'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'cjs-app', private: true, dependencies: { viscose: '*' } }));
    for (const file of ['main.cjs', 'tasks.cjs']) copyFileSync(join(fixtures, file), join(project, file));
  });

  afterAll(() => {
    if (project !== undefined) rmSync(project, { recursive: true, force: true });
  });

  it('require() loads the package, and a CommonJS task module runs on the pool', async () => {
    const args = runtime === 'deno' ? ['run', '-A', '--node-modules-dir=manual', 'main.cjs', '--cluster'] : ['main.cjs', '--cluster'];
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd: project, timeout: 60_000 });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout.trim())).toEqual({
      sum: 3,
      batch: [3, 7],
      greetings: ['hello from worker 0', 'hello from worker 1'],
      errorsAreClasses: true,
      cluster: 'function',
    });
  });
});
