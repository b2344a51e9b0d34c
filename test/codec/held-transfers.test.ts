// The main thread's holding of values moved with transfer() (codec/held-transfers.ts): one token
// per encode, detached from the caller when held, handed out once, let go of at the call's end.
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { HeldTransfers } from '../../src/codec/held-transfers.js';
import { runtime } from '../support/runtime.js';

describe('HeldTransfers', () => {
  it('gives one token per encode and one index per value, repeats included', () => {
    const held = new HeldTransfers();
    const a = new ArrayBuffer(4);
    const b = new ArrayBuffer(8);
    held.startEncoding();
    const [token, first] = held.refFor(a);
    expect(held.refFor(b)).toEqual([token, 1]);
    expect(held.refFor(a)).toEqual([token, first]);
    expect(held.holdEncoded()).toBe(token);
    held.startEncoding();
    expect(held.refFor(a)[0]).not.toBe(token);
  });

  it('detaches what it holds from the caller, without changing the bytes, and hands it out once', () => {
    const held = new HeldTransfers();
    const bytes = new Uint8Array([1, 2, 3]);
    held.startEncoding();
    held.refFor(bytes.buffer);
    const token = held.holdEncoded();
    expect(bytes.byteLength).toBe(0);
    expect(held.size).toBe(1);
    const values = held.take(token)!;
    expect([...new Uint8Array(values[0] as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect(held.take(token)).toBeUndefined();
    expect(held.size).toBe(0);
  });

  it('holds nothing for an encode that moves nothing, or one abandoned before it was held', () => {
    const held = new HeldTransfers();
    held.startEncoding();
    expect(held.holdEncoded()).toBe(0);
    const buffer = new ArrayBuffer(4);
    held.refFor(buffer);
    held.startEncoding();
    expect(held.holdEncoded()).toBe(0);
    expect(buffer.byteLength).toBe(4);
  });

  it('lets go at the call’s end, closing a port nobody pulled', async () => {
    const held = new HeldTransfers();
    const { port1, port2 } = new MessageChannel();
    const closed = new Promise<void>((resolve) => port1.once('close', resolve));
    held.startEncoding();
    held.refFor(port2);
    const token = held.holdEncoded();
    held.release(token);
    expect(held.size).toBe(0);
    // Deno does not tell a port's peer that a port it cloned with a transfer was closed.
    if (runtime !== 'deno') await closed;
    port1.close();
    held.release(token);
  });
});
