// How many jobs a node with `concurrency: 'auto'` takes at once: enough places that its threads
// stay busy while results travel to Redis, from twice to eight times its threads.
import { describe, expect, it } from 'vitest';
import { JobsAtOnce } from '../../src/bullmq/jobs-at-once.js';

/** A count for `threads` threads, and every count it applied. */
function counting(threads: number) {
  const applied: number[] = [];
  return { atOnce: new JobsAtOnce(threads, (jobs) => applied.push(jobs)), applied };
}

describe('JobsAtOnce', () => {
  it('holds twice the threads until both a pool time and a trip are measured', () => {
    const { atOnce, applied } = counting(3);
    expect(atOnce.current).toBe(6);
    atOnce.recorded(50);
    atOnce.recorded(50);
    expect(atOnce.current).toBe(6);
    expect(applied).toEqual([]);
  });

  it('adds a place per thread for each pool time a trip lasts, rounded up', () => {
    const { atOnce, applied } = counting(2);
    atOnce.ran(4);
    atOnce.recorded(9); // ⌈9 ÷ 4⌉ = 3: 1 + 3 per thread
    expect(atOnce.current).toBe(8);
    expect(applied).toEqual([8]);
  });

  it('keeps twice the threads for jobs longer than their trip', () => {
    const { atOnce, applied } = counting(4);
    atOnce.ran(200);
    atOnce.recorded(3);
    expect(atOnce.current).toBe(8);
    expect(applied).toEqual([]);
  });

  it('holds at most eight jobs per thread, even for jobs too short to time', () => {
    const { atOnce, applied } = counting(2);
    atOnce.ran(0);
    atOnce.recorded(1);
    expect(atOnce.current).toBe(16);
    expect(applied).toEqual([16]);
  });

  it('takes the shortest of the last 16 trips: a slower one waited on the node itself', () => {
    const { atOnce, applied } = counting(1);
    atOnce.ran(4);
    atOnce.recorded(2); // 1 + ⌈0.5⌉ = 2: as held already
    for (let k = 0; k < 15; k++) atOnce.recorded(30); // the 2 ms trip is still among the last 16
    expect(atOnce.current).toBe(2);
    atOnce.recorded(30); // now it is not: 1 + ⌈30 ÷ 4⌉
    expect(atOnce.current).toBe(8);
    atOnce.recorded(5); // one short trip is enough: 1 + ⌈5 ÷ 4⌉
    expect(atOnce.current).toBe(3);
    expect(applied).toEqual([8, 3]);
  });

  it('averages a job that stands out with the ones before it', () => {
    const { atOnce } = counting(1);
    for (let k = 0; k < 10; k++) atOnce.ran(10);
    atOnce.recorded(5); // 1 + ⌈0.5⌉
    expect(atOnce.current).toBe(2);
    atOnce.ran(1); // one short job: the average pool time is 7.75 ms, not 1
    expect(atOnce.current).toBe(2);
  });
});
