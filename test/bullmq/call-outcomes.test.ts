// The outcomes of a submission's calls: each settled once; runBatch's rejection is the failure of
// the lowest index, given as soon as every call before it succeeded.
import { describe, expect, it } from 'vitest';
import { CallOutcomes } from '../../src/bullmq/call-outcomes.js';

describe('call outcomes', () => {
  it('rejects with the lowest failed index once the calls before it are fulfilled, not before', async () => {
    const outcomes = new CallOutcomes(4, true);
    const all = outcomes.whenAll();
    let rejected: unknown;
    all.catch((error: unknown) => {
      rejected = error;
    });
    outcomes.fail(3, 'three');
    outcomes.fail(1, 'one');
    await Promise.resolve();
    expect(rejected).toBeUndefined(); // call 0 may still succeed or fail first
    outcomes.fulfil(0, 'zero');
    await expect(all).rejects.toBe('one');
  });

  it('settles each call once and gives every outcome in order', async () => {
    const seen: [number, boolean, unknown][] = [];
    const outcomes = new CallOutcomes(3, false, (index, fulfilled, result) => seen.push([index, fulfilled, result]));
    expect(outcomes.fulfil(2, 'c')).toBe(true);
    expect(outcomes.fail(2, 'late')).toBe(false);
    expect(outcomes.pendingIn(0, 2)).toBe(true);
    expect(outcomes.pendingIn(2, 1)).toBe(false);
    outcomes.fail(0, 'a failed');
    const settled = outcomes.whenSettled();
    outcomes.fulfil(1, 'b');
    expect(await settled).toEqual([
      { status: 'rejected', reason: 'a failed' },
      { status: 'fulfilled', value: 'b' },
      { status: 'fulfilled', value: 'c' },
    ]);
    expect(seen).toEqual([
      [2, true, 'c'],
      [0, false, 'a failed'],
      [1, true, 'b'],
    ]);
    // Asked once everything has settled, it answers at once.
    await expect(outcomes.whenSettled()).resolves.toHaveLength(3);
  });

  it('resolves with every value when all succeed, also when asked late', async () => {
    const outcomes = new CallOutcomes(2, true);
    outcomes.fulfil(1, 'b');
    outcomes.fulfil(0, 'a');
    await expect(outcomes.whenAll()).resolves.toEqual(['a', 'b']);
  });
});
