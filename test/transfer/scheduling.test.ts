// Moved values reach whichever worker runs the call: one that took it from the queue long after it
// was made, halves of the main thread's join, calls of a batch in chunks. Inside a task, a marked
// buffer in forked work is the same buffer when the work runs inline and a copy when it is stolen.
import { describe, expect, it } from 'vitest';
import { ThreadPool, transfer } from 'viscose';
import type * as Tasks from '../fixtures/transfer-tasks.mjs';

const module = new URL('../fixtures/transfer-tasks.mjs', import.meta.url);

function filled(size: number, value: number): Uint8Array {
  return new Uint8Array(size).fill(value);
}

describe('where moved values go', () => {
  it('to the worker that takes a queued call, whichever it is', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 3 });
    // Two workers busy, then more calls than the third can take at once: they wait in the queue
    // and are taken by whichever worker frees up first.
    const blockers = [pool.run('busy', 150), pool.run('busy', 80)];
    const sent = Array.from({ length: 12 }, (_, i) => filled(1000 + i, i + 1));
    const calls = sent.map((bytes) => pool.run('lookLater', 10, transfer(bytes)));
    for (const bytes of sent) expect(bytes.byteLength).toBe(0);
    const seen = await Promise.all(calls);
    seen.forEach((result, i) => {
      expect(result.values[0]).toMatchObject({ kind: 'Uint8Array', byteLength: 1000 + i });
      expect(result.values[0].bytes).toEqual(new Array(1000 + i).fill(i + 1));
    });
    expect(new Set(seen.map((result) => result.worker)).size).toBeGreaterThan(1);
    await Promise.all(blockers);
  });

  it('to each half of the main thread’s join', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const a = filled(64, 1);
    const b = new Float32Array([1.5, 2.5, 3.5]);
    const [left, right] = await pool.join(['look', transfer(a)], ['look', transfer(b)]);
    expect(a.byteLength).toBe(0);
    expect(b.length).toBe(0);
    expect(left.values[0].bytes).toEqual(new Array(64).fill(1));
    expect(right.values[0]).toMatchObject({ kind: 'Float32Array', byteLength: 12 });
    expect(right.values[0].bytes).toEqual([...new Uint8Array(new Float32Array([1.5, 2.5, 3.5]).buffer)]);
  });

  it('to a spawn of the main thread’s scope', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const bytes = filled(32, 5);
    await pool.scope((scope) => {
      scope.spawn('touch', transfer(bytes));
    });
    expect(bytes.byteLength).toBe(0);
  });

  for (const chunkSize of [1, 3, undefined]) {
    it(`to the worker that runs each chunk of a batch (chunkSize ${chunkSize ?? 'default'})`, async () => {
      await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
      const sent = Array.from({ length: 10 }, (_, i) => filled(100 + i, i));
      // Every other call moves its buffer; the others are copied.
      const argsList = sent.map((bytes, i) => [i % 2 === 0 ? transfer(bytes) : bytes]);
      const results = await pool.with({ chunkSize }).runBatch('look', argsList);
      sent.forEach((bytes, i) => {
        expect(bytes.byteLength).toBe(i % 2 === 0 ? 0 : 100 + i);
      });
      results.forEach((result, i) => {
        expect(result.values[0].bytes).toEqual(new Array(100 + i).fill(i));
      });
    });
  }

  it('inside a task: the same buffer when the forked half runs inline', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const result = await pool.run('forkOver', 16, 0);
    expect(result.second.worker).toBe(result.forker);
    // touch wrote into the forker's own buffer, which stayed attached.
    expect(result.after).toBe(16);
    expect(result.bytesAfter).toBe(1);
  });

  it('inside a task: a copy when another worker steals the forked half', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    let result = await pool.run('forkOver', 16, 100);
    for (let tries = 0; tries < 10 && result.second.worker === result.forker; tries++) result = await pool.run('forkOver', 16, 100);
    expect(result.second.worker).not.toBe(result.forker);
    expect(result.second.length).toBe(16);
    // The thief wrote into its copy: the forker's buffer is attached and unchanged.
    expect(result.after).toBe(16);
    expect(result.bytesAfter).toBe(9);
  });

  it('inside a task: a stolen half moves what it returns back to the forker', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    let result = await pool.run('forkMakes', 1000, 100);
    for (let tries = 0; tries < 10 && result.made === result.forker; tries++) result = await pool.run('forkMakes', 1000, 100);
    expect(result.made).not.toBe(result.forker);
    expect(result).toMatchObject({ length: 1000, sum: 4000 });
    // Inline, the result is the half's own buffer.
    await using single = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    expect(await single.run('forkMakes', 10, 0)).toMatchObject({ length: 10, sum: 40 });
  });
});
