import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';

const tasksUrl = new URL('../fixtures/tasks.mjs', import.meta.url);

describe('ThreadPool basics', () => {
  let pool: ThreadPool;
  beforeAll(async () => {
    pool = await ThreadPool.create({ module: tasksUrl, threads: 2 });
  });
  afterAll(() => pool.close());

  it('runs a task and returns its result', async () => {
    expect(await pool.run('add', 2, 3)).toBe(5);
  });
});
