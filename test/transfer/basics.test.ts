// transfer(): a marked ArrayBuffer, view or MessagePort in a call's arguments moves to the worker
// that runs the call (detached on the caller's side at once, pulled by whichever worker takes it),
// and one in a result moves back. Unmarked buffers are still copied.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { EncodeError, TaskError, ThreadPool, TransferError, transfer } from 'viscose';
import { transfer as workerTransfer } from 'viscose/worker';
import type * as Tasks from '../fixtures/transfer-tasks.mjs';

const module = new URL('../fixtures/transfer-tasks.mjs', import.meta.url);

function pattern(size: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) % 256;
  return bytes;
}

describe('transfer()', () => {
  it('is one implementation in both entry points, typed as its argument', () => {
    expect(workerTransfer).toBe(transfer);
    const bytes: Uint8Array = transfer(new Uint8Array(4));
    expect(bytes.byteLength).toBe(4);
  });

  it('refuses what cannot move', () => {
    expect(() => transfer({} as ArrayBuffer)).toThrow(TypeError);
    expect(() => transfer(new Int32Array(new SharedArrayBuffer(8)))).toThrow(/shared memory/);
  });

  it('detaches the caller’s buffer at once; the worker sees the same bytes at the same offsets', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const raw = pattern(64, 1).buffer;
    const whole = pattern(32, 2);
    const under = new ArrayBuffer(40);
    new Uint8Array(under).set(pattern(40, 3));
    const window = new Float64Array(under, 8, 3);
    const dataView = new DataView(pattern(24, 4).buffer, 5, 11);
    const expected = [
      { kind: 'ArrayBuffer', byteLength: 64, bytes: [...pattern(64, 1)] },
      { kind: 'Uint8Array', byteOffset: 0, byteLength: 32, bufferLength: 32, shared: false, bytes: [...pattern(32, 2)] },
      { kind: 'Float64Array', byteOffset: 8, byteLength: 24, bufferLength: 40, shared: false, bytes: [...pattern(40, 3).subarray(8, 32)] },
      { kind: 'DataView', byteOffset: 5, byteLength: 11, bufferLength: 24, shared: false, bytes: [...pattern(24, 4).subarray(5, 16)] },
    ];
    const seen = pool.run('look', transfer(raw), transfer(whole), transfer(window), transfer(dataView));
    // Detached before the call returned its promise: the caller cannot race the worker.
    expect(raw.byteLength).toBe(0);
    expect(whole.byteLength).toBe(0);
    expect(under.byteLength).toBe(0);
    expect(window.length).toBe(0);
    expect(dataView.buffer.byteLength).toBe(0);
    expect((await seen).values).toEqual(expected);
  });

  it('leaves unmarked buffers with the caller (copied)', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const bytes = pattern(16);
    const seen = await pool.run('look', bytes);
    expect(bytes.byteLength).toBe(16);
    expect(seen.values[0]).toMatchObject({ kind: 'Uint8Array', bytes: [...bytes] });
  });

  it('moves every view over a marked buffer with it, onto one buffer', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const buffer = new ArrayBuffer(16);
    const a = new Uint8Array(buffer, 0, 8);
    const b = new Uint16Array(buffer, 8, 4);
    transfer(a);
    const seen = await pool.run('sameBuffer', a, b);
    expect(seen.same).toBe(true);
    expect(seen.b).toMatchObject({ byteOffset: 8, byteLength: 8, bufferLength: 16 });
    expect(buffer.byteLength).toBe(0);
  });

  it('refuses a buffer that moved already', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const bytes = transfer(new Uint8Array(8));
    await pool.run('length', bytes.buffer);
    await expect(pool.run('length', bytes.buffer)).rejects.toThrow(/moved already|detached/);
  });

  it('moves a result marked in the task back to the caller, detached on the worker', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const made = await pool.run('make', 1000, true);
    expect(made).toBeInstanceOf(Uint8Array);
    expect([...made]).toEqual(Array.from({ length: 1000 }, (_, i) => i % 251));
    const kept = await pool.run('moveBackAndKeep', 100);
    expect([...kept]).toEqual(new Array(100).fill(7));
    expect(await pool.run('keptLength')).toBe(0);
    // Moved there and back.
    const round = await pool.run('echoMoved', transfer(pattern(50, 9)));
    expect([...(round.value as Uint8Array)]).toEqual([...pattern(50, 9)]);
  });

  it('moves a MessagePort, over which the task streams back', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const { port1, port2 } = new MessageChannel();
    const chunks: number[] = [];
    const closed = new Promise<void>((resolve) => {
      port1.on('message', (message: { chunk: number }) => chunks.push(message.chunk));
      port1.on('close', resolve);
    });
    expect(await pool.run('stream', transfer(port2), 5)).toBe(5);
    await closed;
    expect(chunks).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses an unmarked MessagePort, and a port in forked work', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const { port1, port2 } = new MessageChannel();
    await expect(pool.run('stream', port2 as MessagePort, 1)).rejects.toThrow(EncodeError);
    const failure = await pool.run('forkPort', transfer(port2)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TaskError);
    expect(String((failure as TaskError).cause)).toMatch(/MessagePort cannot go in forked work/);
    port1.close();
  });

  it('refuses a marked value where several workers read the payload', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const bytes = transfer(new Uint8Array(8));
    await expect(pool.broadcast('length', bytes.buffer)).rejects.toThrow(EncodeError);
    // Refused before anything moved.
    expect(bytes.byteLength).toBe(8);
  });

  it('refuses retries up front, leaving the buffer with the caller', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 1 });
    const bytes = transfer(new Uint8Array(8));
    await expect(pool.with({ retries: 1 }).run('length', bytes.buffer)).rejects.toThrow(TransferError);
    await expect(pool.with({ retries: 1 }).runBatch('length', [[bytes.buffer]])).rejects.toThrow(TransferError);
    expect(bytes.byteLength).toBe(8);
    expect(await pool.run('length', bytes.buffer)).toBe(8);
  });

  it('moves in calls made in one turn, which travel alone while the others share slots', async () => {
    await using pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
    const sent = Array.from({ length: 60 }, (_, i) => pattern(20 + i, i));
    // No await between the calls: unmarked ones of one turn may share a slot.
    const calls = sent.map((bytes, i) => pool.run('look', i % 3 === 0 ? transfer(bytes) : bytes));
    const seen = await Promise.all(calls);
    seen.forEach((result, i) => {
      expect(result.values[0].bytes).toEqual([...pattern(20 + i, i)]);
      expect(sent[i].byteLength).toBe(i % 3 === 0 ? 0 : 20 + i);
    });
  });
});
