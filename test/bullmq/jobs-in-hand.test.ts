// What a draining node waits for: every started job's outcome recorded, or, once every task has
// ended, a grace for outcomes BullMQ will never record (a lost lock).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobsInHand } from '../../src/bullmq/jobs-in-hand.js';

describe('JobsInHand', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** Whether `promise` has resolved, after the pending microtasks. */
  async function resolved(promise: Promise<void>): Promise<boolean> {
    let done = false;
    void promise.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    return done;
  }

  it('is drained at once with nothing in hand', async () => {
    expect(await resolved(new JobsInHand(() => {}).drained())).toBe(true);
  });

  it('waits until every started job has its outcome recorded', async () => {
    const inHand = new JobsInHand(() => {});
    inHand.started('a');
    inHand.started('b');
    const drained = inHand.drained();
    inHand.ended('a');
    inHand.recorded('a');
    expect(await resolved(drained)).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000); // b's task still runs: no grace yet
    expect(await resolved(drained)).toBe(false);
    inHand.ended('b');
    inHand.recorded('b');
    expect(await resolved(drained)).toBe(true);
  });

  it('gives up on an outcome never recorded, 5 s after the last task ended', async () => {
    const inHand = new JobsInHand(() => {});
    inHand.started('lost-lock');
    const drained = inHand.drained();
    inHand.ended('lost-lock');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(await resolved(drained)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await resolved(drained)).toBe(true);
  });

  it('ignores outcomes of jobs it did not start (recorded twice, or by another path)', async () => {
    const inHand = new JobsInHand(() => {});
    inHand.started('a');
    inHand.recorded('unknown');
    const drained = inHand.drained();
    expect(await resolved(drained)).toBe(false);
    inHand.ended('a');
    inHand.recorded('a');
    inHand.recorded('a');
    expect(await resolved(drained)).toBe(true);
  });

  it('tells how long each outcome took to be recorded after its task ended', async () => {
    const recordings: number[] = [];
    const inHand = new JobsInHand((ms) => recordings.push(ms));
    inHand.started('a');
    inHand.started('b');
    await vi.advanceTimersByTimeAsync(100); // running: not part of the recording
    inHand.ended('a');
    await vi.advanceTimersByTimeAsync(7);
    inHand.ended('b');
    await vi.advanceTimersByTimeAsync(3);
    inHand.recorded('a');
    inHand.recorded('b');
    inHand.recorded('b'); // twice: timed once
    inHand.recorded('unknown');
    expect(recordings).toEqual([10, 3]);
  });
});
