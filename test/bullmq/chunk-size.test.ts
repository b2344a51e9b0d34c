// How a client sizes its chunks: spread over the nodes seen, large enough to be worth a job.
import { describe, expect, it } from 'vitest';
import { ChunkSizer, LARGEST_CHUNK } from '../../src/bullmq/chunk-size.js';

const result = (node: string, runMs: number, ran: number) => ({ values: [], failures: [], node, runMs, ran });
/** `count` calls whose arguments are small. */
const calls = (count: number, args: unknown[] = [1]) => new Array<unknown[]>(count).fill(args);

describe('chunk sizes', () => {
  it('keeps a size that was given', () => {
    expect(new ChunkSizer(7).sizeFor('t', calls(100_000))).toBe(7);
  });

  it('cuts a batch of a task not measured yet into 16 chunks, at most LARGEST_CHUNK calls each', () => {
    const sizer = new ChunkSizer(undefined);
    expect(sizer.sizeFor('t', calls(1_600))).toBe(100);
    expect(sizer.sizeFor('t', calls(10))).toBe(1);
    expect(sizer.sizeFor('t', calls(1_000_000))).toBe(LARGEST_CHUNK);
  });

  it('makes 8 chunks per node seen when that is more than 16', () => {
    const sizer = new ChunkSizer(undefined);
    for (const node of ['a', 'b', 'c', 'd']) sizer.learn('other', result(node, 1, 1));
    expect(sizer.sizeFor('t', calls(3_200))).toBe(100);
  });

  it("makes a chunk of a slow task just long enough that the job's cost is 5 % of its run time", () => {
    const sizer = new ChunkSizer(undefined);
    sizer.learn('slow', result('a', 200, 100)); // 2 ms per call: 10 calls make 20 ms
    expect(sizer.sizeFor('slow', calls(100_000))).toBe(10);
    sizer.learn('fast', result('a', 1, 1_000)); // 1 µs per call: as large as the spread allows
    expect(sizer.sizeFor('fast', calls(100_000))).toBe(LARGEST_CHUNK);
    // The estimate follows the measurements, weighting the newest by 0.3.
    sizer.learn('slow', result('a', 60, 100));
    expect(sizer.sizeFor('slow', calls(100_000))).toBe(Math.ceil(1 / (0.05 * (2 + 0.3 * (0.6 - 2)))));
  });

  it("keeps a chunk's arguments within 1 MiB packed and 120 KiB in JSON, judging from the first, middle and last call", () => {
    const sizer = new ChunkSizer(undefined);
    // Packed: 10,004 bytes of msgpack (list and string headers), and 4 for its length.
    const large = ['x'.repeat(10_000)];
    expect(sizer.sizeFor('t', calls(100_000, large))).toBe(Math.floor((1024 * 1024) / 10_008));
    for (const sampled of [50_000, 99_999]) {
      const mixed = calls(100_000);
      mixed[sampled] = large;
      expect(sizer.sizeFor('t', mixed)).toBe(Math.floor((1024 * 1024) / 10_008));
    }
    // Not packed (a Date is not JSON's own): 1,006 bytes as JSON.
    const dated = ['x'.repeat(975), new Date(0)];
    expect(sizer.sizeFor('t', calls(100_000, dated))).toBe(Math.floor((120 * 1024) / 1_006));
    // One sampled call that does not pack makes the chunk JSON, and its bound JSON's.
    const someDated = calls(100_000, large);
    someDated[50_000] = dated;
    expect(sizer.sizeFor('t', someDated)).toBe(Math.floor((120 * 1024) / 10_008));
    // One call larger than that still gets a job.
    expect(sizer.sizeFor('t', calls(100, ['x'.repeat(2 << 20)]))).toBe(1);
  });
});
