// Which runtime the suites run on. `.ci/run` runs the pool suites under Bun and Deno with
// VISCOSE_EXPECT_RUNTIME set, so that a run which silently fell back to Node.js fails here.
import { expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import type * as Tasks from '../fixtures/tasks.mjs';
import { runtime } from '../support/runtime.js';

const expected = process.env.VISCOSE_EXPECT_RUNTIME;

it.runIf(expected !== undefined)('runs the tests and the pool’s workers on the runtime asked for', async () => {
  expect(runtime).toBe(expected);
  await using pool = await ThreadPool.create<typeof Tasks>({ module: new URL('../fixtures/tasks.mjs', import.meta.url), threads: 2 });
  expect(await pool.runBatch('runtimeName', [[], []])).toEqual([expected, expected]);
  console.log(
    `runtime: ${runtime} ${process.versions.bun ?? (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno ?? process.version}`,
  );
});
