/**
 * The dispatcher's two lookups: which slot a call is in (slot-works.ts) and who waits for a free
 * slot (slot-waiters.ts), including a call cancelled while it waits and a call queued again.
 */
import { describe, expect, it } from 'vitest';
import type { PendingWork } from '../../src/pool/work.js';
import { SlotWaiters } from '../../src/pool/slot-waiters.js';
import { SlotWorks, isDropped } from '../../src/pool/slot-works.js';
import { NORMAL_LEVEL } from '../../src/queue/priority.js';

function work(log: string[] = [], name = 'w'): PendingWork {
  return {
    settle: () => log.push(`${name} settled`),
    abandon: () => log.push(`${name} abandoned`),
    dropped: () => log.push(`${name} dropped`),
  };
}

describe('SlotWorks', () => {
  it('finds the slot of a work, and no slot once it is cleared', () => {
    const works = new SlotWorks(4);
    const a = work();
    const b = work();
    works.set(2, a, true);
    works.set(0, b, true);
    expect(works.find(a)).toBe(2);
    expect(works.find(b)).toBe(0);
    works.clear(2);
    expect(works.find(a)).toBe(-1);
    expect(works.at(2)).toBeUndefined();
    expect(works.find(b)).toBe(0);
  });

  it('finds only the works set as findable', () => {
    const works = new SlotWorks(4);
    const plain = work();
    const watched = work();
    works.set(0, plain, false);
    works.set(1, watched, true);
    expect(works.find(plain)).toBe(-1);
    expect(works.find(watched)).toBe(1);
    expect(works.at(0)).toBe(plain);
    works.clear(0);
    works.clear(1);
    expect(works.find(watched)).toBe(-1);
  });

  it('follows a work queued again in another slot (a retried call)', () => {
    const works = new SlotWorks(4);
    const retried = work();
    works.set(1, retried, true);
    works.clear(1);
    works.set(3, retried, true);
    expect(works.find(retried)).toBe(3);
    // Queued again before its old slot was cleared: clearing the old one keeps the new entry.
    works.set(2, retried, true);
    works.clear(3);
    expect(works.find(retried)).toBe(2);
    works.set(3, retried, true);
    // The old slot taken by someone else does not disturb the new entry.
    works.set(1, work(), true);
    works.clear(1);
    expect(works.find(retried)).toBe(3);
  });

  it('puts a stand-in in place of a dropped call, which runs the call’s hook when the slot finishes', () => {
    const log: string[] = [];
    const works = new SlotWorks(4);
    const withHook = work(log, 'a');
    const withoutHook: PendingWork = { settle: () => log.push('b settled'), abandon: () => log.push('b abandoned') };
    works.set(0, withHook, true);
    works.set(1, withoutHook, true);
    works.set(2, work(log, 'c'), true);
    works.drop(0);
    works.drop(1);
    expect(works.find(withHook)).toBe(-1);
    expect(works.find(withoutHook)).toBe(-1);
    const standIn = works.at(0)!;
    expect(isDropped(standIn)).toBe(true);
    expect(isDropped(works.at(1)!)).toBe(true);
    expect(isDropped(works.at(2)!)).toBe(false);
    standIn.settle(0, undefined, 0, 0, 0);
    works.at(1)!.settle(0, undefined, 0, 0, 0);
    expect(log).toEqual(['a dropped']);
    works.clear(0);
    works.clear(1);
    expect(works.find(works.at(2)!)).toBe(2);
  });
});

describe('SlotWaiters', () => {
  it('grants slots oldest first and passes over a call cancelled while it waits', () => {
    const log: string[] = [];
    const waiters = new SlotWaiters(undefined);
    const a = work(log, 'a');
    const b = work(log, 'b');
    waiters.addCall(a, NORMAL_LEVEL, (slot) => log.push(`a got ${slot}`));
    waiters.addCall(b, NORMAL_LEVEL, (slot) => log.push(`b got ${slot}`));
    expect(waiters.cancel(a)).toBe(true);
    expect(waiters.cancel(a)).toBe(true);
    expect(waiters.queued).toBe(2);
    expect(waiters.waiting).toBe(1);
    expect(waiters.grant(7)).toBe(true);
    expect(log).toEqual(['a dropped', 'b got 7']);
    expect(waiters.grant(8)).toBe(false);
    expect(waiters.queued).toBe(0);
    expect(waiters.waiting).toBe(0);
    expect(waiters.cancel(b)).toBe(false);
  });

  it('abandons whoever still waits, and counts the calls as cancelled', async () => {
    const log: string[] = [];
    const recorder = { cancelled: 0 } as unknown as ConstructorParameters<typeof SlotWaiters>[0];
    const waiters = new SlotWaiters(recorder);
    const a = work(log, 'a');
    waiters.addCall(a, NORMAL_LEVEL, () => log.push('a granted'));
    waiters.addCall(work(log, 'b'), NORMAL_LEVEL, () => log.push('b granted'));
    const scope = waiters.addScope();
    waiters.cancel(a);
    const gone = new Error('terminated');
    waiters.abandonAll(gone);
    await expect(scope).rejects.toBe(gone);
    expect(log).toEqual(['a dropped', 'b abandoned']);
    expect(recorder!.cancelled).toBe(2);
    expect(waiters.queued).toBe(0);
    expect(waiters.waiting).toBe(0);
  });

  it('settles a waiting scope with the slot it is granted', async () => {
    const waiters = new SlotWaiters(undefined);
    const scope = waiters.addScope();
    expect(waiters.grant(3)).toBe(true);
    await expect(scope).resolves.toBe(3);
  });
});
