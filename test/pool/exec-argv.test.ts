// What a worker inherits of the main program's flags (src/pool/exec-argv.ts): a pool works from a
// `node --input-type=module -e` one-liner, under `node --test` and under a NODE_OPTIONS preload,
// keeps the flags that shape how JavaScript runs, and passes a caller's execArgv as given.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../src/pool/exec-argv.js';
import { runtime } from '../support/runtime.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tasks = new URL('../fixtures/tasks.mjs', import.meta.url).href;
mkdirSync(join(root, 'test-results'), { recursive: true });
// Inside the package, so that `import 'viscose'` resolves to the built package.
const scratch = mkdtempSync(join(root, 'test-results', 'exec-argv-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A program that starts a pool, reports what its workers were started with, and closes it. */
const PROGRAM = `
import { ThreadPool } from 'viscose';
const pool = await ThreadPool.create({ module: new URL(${JSON.stringify(tasks)}), threads: 2 });
const sums = await pool.runBatch('add', [[1, 2], [3, 4]]);
const { execArgv: workerArgv, preloaded } = await pool.run('startedWith');
await pool.close();
console.log(JSON.stringify({ sums, workerArgv, preloaded }));
`;

async function node(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ sums: number[]; workerArgv: string[]; preloaded: boolean }> {
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: scratch, env: { ...process.env, ...env }, timeout: 60_000 });
  const line = stdout.split('\n').find((text) => text.startsWith('{"sums"'));
  if (line === undefined) throw new Error(`no result line in:\n${stdout}`);
  return JSON.parse(line);
}

describe('the flags a worker inherits', () => {
  it('are the parent’s as Node hands them down when none describes the main program', () => {
    expect(workerExecArgv(undefined, [])).toBeUndefined();
    expect(workerExecArgv(undefined, ['--enable-source-maps', '--max-old-space-size=512'])).toBeUndefined();
  });

  it('leave out the main program’s source, run mode and input type, with their values', () => {
    expect(workerExecArgv(undefined, ['--input-type=module', '-e', 'console.log(1)'])).toEqual([]);
    expect(workerExecArgv(undefined, ['--input-type', 'module', '--enable-source-maps', '--eval', '-1'])).toEqual(['--enable-source-maps']);
    expect(workerExecArgv(undefined, ['-p', '1 + 1', '--stack-size', '2000', '--import', './setup.mjs'])).toEqual([
      '--stack-size',
      '2000',
      '--import',
      './setup.mjs',
    ]);
    expect(workerExecArgv(undefined, ['--watch', '--watch-path', 'src', '--watch-preserve-output', '--conditions=dev'])).toEqual([
      '--conditions=dev',
    ]);
    expect(workerExecArgv(undefined, ['--test', '--check', '-i', '--no-warnings'])).toEqual(['--no-warnings']);
  });

  it('are the caller’s own list, as given, when there is one', () => {
    expect(workerExecArgv(['--input-type=module'], ['--enable-source-maps'])).toEqual(['--input-type=module']);
    expect(workerExecArgv([], ['--input-type=module', '-e', 'x'])).toEqual([]);
  });
});

// Node's command line: Bun and Deno take other flags (and have no --input-type).
describe.runIf(runtime === 'node')('a pool started from', () => {
  it('a `node --input-type=module -e` one-liner, keeping the other flags', async () => {
    const { sums, workerArgv } = await node([
      '--input-type=module',
      '--enable-source-maps',
      '--expose-gc',
      '--stack-size=2000',
      '-e',
      PROGRAM,
    ]);
    expect(sums).toEqual([3, 7]);
    // --expose-gc and --stack-size are V8's, process-wide: an explicit list may not carry them.
    expect(workerArgv).toEqual(['--enable-source-maps']);
  });

  it('a program read from standard input with --input-type=module', async () => {
    const child = execFile(process.execPath, ['--input-type=module'], { cwd: scratch, timeout: 60_000 });
    child.stdin!.end(PROGRAM);
    let stdout = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim()).sums).toEqual([3, 7]);
  });

  it('a test file run by `node --test`', async () => {
    const file = join(scratch, 'pool.test.mjs');
    writeFileSync(
      file,
      `import { test } from 'node:test';\nimport assert from 'node:assert';\ntest('pool', async () => {\n${PROGRAM.replace("import { ThreadPool } from 'viscose';", "const { ThreadPool } = await import('viscose');").replace('console.log(JSON.stringify({ sums, workerArgv, preloaded }));', 'assert.deepStrictEqual(sums, [3, 7]);\nassert.deepStrictEqual(workerArgv, process.execArgv);')}\n});\n`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--test', '--test-reporter=tap', file], {
      cwd: scratch,
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^# pass 1$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });

  it('a process whose NODE_OPTIONS preloads a module, which its workers load too', async () => {
    const preload = join(scratch, 'preload.mjs');
    writeFileSync(
      preload,
      "import { isMainThread } from 'node:worker_threads';\nglobalThis.viscoseTestPreloaded = true;\nif (isMainThread) console.log('preloaded');\n",
    );
    const program = join(scratch, 'program.mjs');
    writeFileSync(program, PROGRAM);
    const { stdout } = await promisify(execFile)(process.execPath, [program], {
      cwd: scratch,
      env: { ...process.env, NODE_OPTIONS: `--import=${preload}` },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^preloaded$/m);
    const result = JSON.parse(stdout.split('\n').find((line) => line.startsWith('{'))!);
    expect(result.sums).toEqual([3, 7]);
    expect(result.preloaded).toBe(true);
  });

  it('a caller’s execArgv, passed to the workers as given', async () => {
    const program = PROGRAM.replace('threads: 2', "threads: 2, execArgv: ['--no-warnings']");
    const { workerArgv } = await node(['--input-type=module', '--enable-source-maps', '-e', program]);
    expect(workerArgv).toEqual(['--no-warnings']);
  });
});
