// Task modules written in TypeScript run when each worker registers a TypeScript loader before
// importing them: the `preload` option, with a file that registers tsx (as docs/guide/typescript.md documents).
import { describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import type * as TypedTasks from '../fixtures/typed-tasks.js';

describe('a TypeScript task module', () => {
  it('runs with tsx registered by a preload module', async () => {
    const pool = await ThreadPool.create<typeof TypedTasks>({
      module: new URL('../fixtures/typed-tasks.ts', import.meta.url),
      threads: 1,
      preload: [new URL('../fixtures/register-tsx.mjs', import.meta.url)],
    });
    try {
      expect(pool.tasks).toEqual(['describeSize', 'scale']);
      expect(await pool.run('scale', { width: 3, height: 4 }, 2)).toEqual({ width: 6, height: 8 });
      expect(await pool.run('describeSize', { width: 640, height: 480 })).toBe('640x480');
    } finally {
      await pool.close();
    }
  });
});
