// The starvation-bounded priority rule on its own: most urgent first, but a level with waiting
// work is passed over at most STARVATION_BOUND times in a row.
import { describe, expect, it } from 'vitest';
import { LevelPicker, PRIORITY_LEVEL, STARVATION_BOUND, priorityLevel } from '../../src/queue/priority.js';
import { WaitQueue } from '../../src/pool/wait-queue.js';
import { InvalidOptionError } from '../../src/errors.js';

const { high, normal, low } = PRIORITY_LEVEL;

describe('priorities', () => {
  it('serve the most urgent level first when nothing starves', () => {
    const queue = new WaitQueue<string>();
    queue.push('low', low);
    queue.push('normal', normal);
    queue.push('high', high);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual(['high', 'normal', 'low', undefined]);
  });

  it('keep FIFO order within a level', () => {
    const queue = new WaitQueue<number>();
    for (let i = 0; i < 5; i++) queue.push(i, normal);
    expect(Array.from({ length: 5 }, () => queue.shift())).toEqual([0, 1, 2, 3, 4]);
  });

  it('serve a waiting low-priority call after at most STARVATION_BOUND more urgent ones, under a constant stream of them', () => {
    const queue = new WaitQueue<string>();
    queue.push('low', low);
    queue.push('normal', normal);
    const served: string[] = [];
    for (let i = 0; i < 40; i++) {
      queue.push('high', high); // a new high-priority call arrives before every choice
      served.push(queue.shift()!);
    }
    const lowAt = served.indexOf('low');
    const normalAt = served.indexOf('normal');
    // Both wait STARVATION_BOUND turns; then the least urgent goes first and normal right after.
    expect(lowAt).toBe(STARVATION_BOUND);
    expect(normalAt).toBe(STARVATION_BOUND + 1);
    // And again, every STARVATION_BOUND + 2 choices, for as long as they have work.
    queue.push('low', low);
    const more: string[] = [];
    for (let i = 0; i < 2 * (STARVATION_BOUND + 2); i++) {
      queue.push('high', high);
      more.push(queue.shift()!);
    }
    expect(more.filter((item) => item === 'low')).toHaveLength(1);
  });

  it('pass a level with work over at most STARVATION_BOUND + 1 times in a row, whatever the mix', () => {
    // Random arrivals on every level, random emptiness: the longest run of choices that skipped a
    // level while it had work must stay within the bound.
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return (seed >>> 0) / 2 ** 32;
    };
    const queue = new WaitQueue<number>();
    const skippedInARow = [0, 0, 0];
    let longest = 0;
    for (let step = 0; step < 50_000; step++) {
      for (let level = 0; level < 3; level++) if (random() < [0.9, 0.3, 0.2][level]) queue.push(level, level);
      const waiting = [0, 1, 2].map((level) => queue.lengthAt(level) > 0);
      const served = queue.shift()!;
      for (let level = 0; level < 3; level++) {
        skippedInARow[level] = level !== served && waiting[level] ? skippedInARow[level] + 1 : 0;
        longest = Math.max(longest, skippedInARow[level]);
      }
    }
    expect(longest).toBeLessThanOrEqual(STARVATION_BOUND + 1);
    expect(longest).toBeGreaterThanOrEqual(STARVATION_BOUND); // the mix did make levels wait
  });

  it('give every level a share of at least 1 / (STARVATION_BOUND + 2) when all are saturated', () => {
    const picker = new LevelPicker();
    const counts = [0, 0, 0];
    const always = () => true;
    for (let i = 0; i < 10_000; i++) {
      const level = picker.first(always);
      counts[level]++;
      picker.served(level, always);
    }
    for (const count of counts) expect(count).toBeGreaterThanOrEqual(10_000 / (STARVATION_BOUND + 2) - 1);
  });

  it('validate a priority name', () => {
    expect(priorityLevel(undefined)).toBe(normal);
    expect(priorityLevel('low')).toBe(low);
    expect(() => priorityLevel('urgent' as never)).toThrow(InvalidOptionError);
    expect(() => priorityLevel('toString' as never)).toThrow(InvalidOptionError);
  });
});
