// The package as a user gets it: `npm pack` (whose prepack builds dist/ and the addon and copies it
// to prebuilds/), installed into an empty project outside the checkout with no network and no
// install scripts (as npm 12, pnpm, Bun and Deno install), then used from that project.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT = 240_000;
const PLATFORM = `${process.platform}-${process.arch}`;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a non-zero exit is an outcome, not an error. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, VISCOSE_QUEUE: '', ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

async function succeed(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const outcome = await run(command, args, cwd, env);
  if (outcome.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${outcome.code}:\n${outcome.stdout}\n${outcome.stderr}`);
  return outcome.stdout;
}

/**
 * Headers for node-gyp when it builds the addon during prepack: the running Node's own when its
 * installation has them, so that nothing is downloaded (an explicit npm_config_nodedir wins).
 */
function nodeHeaders(): NodeJS.ProcessEnv {
  const installation = dirname(dirname(process.execPath));
  if (process.env.npm_config_nodedir !== undefined || !existsSync(join(installation, 'include', 'node', 'common.gypi'))) return {};
  return { npm_config_nodedir: installation };
}

/**
 * An empty project depending on the tarball, with a lockfile so that `npm install --offline` needs
 * no registry metadata: viscose's runtime dependencies, and theirs, pinned as this checkout's
 * lockfile pins them (their tarballs are in the npm cache that installed the checkout).
 */
function writeProject(project: string, tarball: string): void {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const checkoutPackages = (
    JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> }
  ).packages;
  const dependencies = { viscose: `file:${tarball}` };
  const packages: Record<string, Record<string, unknown>> = {
    '': { name: 'app', dependencies },
    'node_modules/viscose': {
      version: manifest.version,
      resolved: `file:${tarball}`,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      dependencies: manifest.dependencies,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
      bin: manifest.bin,
    },
  };
  const pending = Object.keys(manifest.dependencies ?? {});
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    const key = `node_modules/${name}`;
    if (key in packages) continue;
    const pinned = checkoutPackages[key];
    if (pinned === undefined) throw new Error(`${name} is not in package-lock.json`);
    // Whether the checkout needs it for development says nothing here; optional stays optional.
    const { dev: _dev, devOptional, optional, ...entry } = pinned;
    packages[key] = optional === true || devOptional === true ? { ...entry, optional: true } : entry;
    pending.push(...Object.keys({ ...(entry.dependencies as object | undefined), ...(entry.optionalDependencies as object | undefined) }));
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies }, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }, null, 2));
}

const TASKS_JS = `export function add(a, b) {
  return a + b;
}
`;

/** The README's quick start; extra pool options come as JSON in argv[2]. */
const MAIN_JS = `import { ThreadPool } from 'viscose';

const options = JSON.parse(process.argv[2] ?? '{}');
const pool = await ThreadPool.create({ module: new URL('./tasks.mjs', import.meta.url), threads: 2, ...options });
try {
  console.log(await pool.run('add', 1, 2), JSON.stringify(await pool.runBatch('add', [[1, 2], [3, 4]])));
} finally {
  await pool.close();
}
`;

const TASKS_TS = `export function add(a: number, b: number): number {
  return a + b;
}
`;

const MAIN_TS = `import { ThreadPool, type ThreadPoolOptions } from 'viscose';
import { join } from 'viscose/worker';

const options: ThreadPoolOptions = { module: new URL('./tasks.js', import.meta.url), threads: 2, queue: 'native' };
const pool = await ThreadPool.create<typeof import('./tasks.js')>(options);
const sum: number = await pool.run('add', 1, 2);
// @ts-expect-error: add takes numbers
await pool.run('add', 'one', 2);
// @ts-expect-error: there is no such task
await pool.run('subtract', 1, 2);
export const joined: typeof join = join;
export { sum };
`;

/** A CommonJS TypeScript file: `import` compiles to require(), which loads the ES module build. */
const MAIN_CTS = `import { ThreadPool } from 'viscose';
import { workerData } from 'viscose/worker';

export async function sum(): Promise<number> {
  const pool = await ThreadPool.create({ module: __dirname + '/tasks.cjs', workerData: { greeting: 'hi' } });
  try {
    return (await pool.run('add', 1, 2)) as number;
  } finally {
    await pool.close();
  }
}
export const data: unknown = workerData;
`;

describe('the installed package', () => {
  let scratch: string;
  let project: string;
  let node: (args: string[], env?: NodeJS.ProcessEnv) => Promise<Outcome>;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'viscose-package-'));
    await succeed('npm', ['pack', '--pack-destination', scratch], root, nodeHeaders());
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz'));
    if (tarball === undefined) throw new Error('npm pack wrote no tarball');
    project = join(scratch, 'app');
    mkdirSync(project);
    writeProject(project, join(scratch, tarball));
    await succeed('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], project);
    writeFileSync(join(project, 'tasks.mjs'), TASKS_JS);
    writeFileSync(join(project, 'main.mjs'), MAIN_JS);
    node = (args, env) => run(process.execPath, args, project, env);
  }, TIMEOUT);

  /** Checks `file` in `dir` with the checkout's tsc, strictly, against the installed package. */
  async function typechecks(dir: string, file: string, resolution: { module: string; moduleResolution: string }): Promise<void> {
    const compilerOptions = {
      ...resolution,
      target: 'es2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      typeRoots: [join(root, 'node_modules', '@types')],
      types: ['node'],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [file] }, null, 2));
    const tsc = await node([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')]);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  }

  afterAll(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it(
    'ships the prebuilt addon and the sources to rebuild it, without build tools among its dependencies',
    () => {
      const installed = join(project, 'node_modules', 'viscose');
      expect(existsSync(join(installed, 'prebuilds', PLATFORM, 'viscose_native.node'))).toBe(true);
      expect(existsSync(join(installed, 'native-queue', 'binding.gyp'))).toBe(true);
      expect(existsSync(join(installed, 'native-queue', 'src', 'addon.cc'))).toBe(true);
      expect(existsSync(join(installed, 'native-queue', 'build'))).toBe(false);
      for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md']) expect(existsSync(join(installed, file))).toBe(true);
      expect(existsSync(join(project, 'node_modules', 'node-addon-api'))).toBe(false);
      expect(existsSync(join(project, 'node_modules', 'node-gyp'))).toBe(false);
    },
    TIMEOUT,
  );

  it.each([{}, { queue: 'native' }, { pinThreads: true }])(
    'runs the quick start with %j',
    async (options) => {
      const outcome = await node(['main.mjs', JSON.stringify(options)]);
      expect(outcome.stderr).toBe('');
      expect(outcome.stdout.trim()).toBe('3 [3,7]');
      expect(outcome.code).toBe(0);
    },
    TIMEOUT,
  );

  it(
    'has a viscose command that prints its usage on --help, and names the missing peers',
    async () => {
      for (const help of [['worker', '--help'], ['-h']]) {
        const outcome = await node(['node_modules/.bin/viscose', ...help]);
        expect(outcome.code).toBe(0);
        expect(outcome.stdout).toMatch(/^usage: viscose worker --module <task module> --queue <name> --redis <url>/);
      }
      const worker = await node([
        'node_modules/.bin/viscose',
        'worker',
        '--module',
        'tasks.mjs',
        '--queue',
        'q',
        '--redis',
        'redis://127.0.0.1:1',
      ]);
      expect(worker.stderr.trim()).toBe('viscose worker needs bullmq and ioredis: npm install bullmq ioredis');
      expect(worker.code).toBe(2);
    },
    TIMEOUT,
  );

  it.each([
    { moduleResolution: 'nodenext', module: 'nodenext' },
    { moduleResolution: 'bundler', module: 'esnext' },
  ])(
    'typechecks a TypeScript project with moduleResolution $moduleResolution',
    async ({ moduleResolution, module }) => {
      const dir = join(project, `ts-${moduleResolution}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'tasks.ts'), TASKS_TS);
      writeFileSync(join(dir, 'main.ts'), MAIN_TS);
      await typechecks(dir, 'main.ts', { module, moduleResolution });
    },
    TIMEOUT,
  );

  it(
    'serves CommonJS: require() in a program and in a task module, and types for a .cts file',
    async () => {
      const dir = join(project, 'commonjs');
      mkdirSync(dir);
      for (const file of ['main.cjs', 'tasks.cjs']) copyFileSync(join(root, 'test', 'fixtures', 'commonjs', file), join(dir, file));
      const outcome = await node([join(dir, 'main.cjs')]);
      expect(outcome.stderr).toBe('');
      expect(JSON.parse(outcome.stdout.trim())).toMatchObject({
        sum: 3,
        batch: [3, 7],
        greetings: ['hello from worker 0', 'hello from worker 1'],
      });
      writeFileSync(join(dir, 'main.cts'), MAIN_CTS);
      await typechecks(dir, 'main.cts', { module: 'nodenext', moduleResolution: 'nodenext' });
    },
    TIMEOUT,
  );

  // Last: it takes the prebuilt addon away from the shared install.
  it(
    'without a prebuilt addon for the platform, fails a native pool with the way to build one and runs a default one',
    async () => {
      const prebuilds = join(project, 'node_modules', 'viscose', 'prebuilds');
      renameSync(prebuilds, join(scratch, 'prebuilds-taken-away'));
      const native = await node(['main.mjs', JSON.stringify({ queue: 'native' })]);
      expect(native.code).not.toBe(0);
      expect(native.stderr).toContain(
        `InvalidOptionError: invalid option queue: the native queue needs the native addon: there is no prebuilt addon for ${PLATFORM} and none built; ` +
          'build it from the project with `npm install --no-save node-addon-api node-gyp && npx node-gyp rebuild --directory node_modules/viscose/native-queue`',
      );
      const fallback = await node(['main.mjs']);
      expect(fallback.stdout.trim()).toBe('3 [3,7]');
      expect(fallback.code).toBe(0);
    },
    TIMEOUT,
  );
});
