// Property: whatever mix of moved and copied buffers and views a call carries (views at any offset,
// several views over one buffer, buffers repeated), the worker sees exactly the bytes, offsets and
// lengths the caller built; moved buffers are detached on the caller's side, copied ones are not.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, transfer } from 'viscose';
import type * as Tasks from '../fixtures/transfer-tasks.mjs';

const module = new URL('../fixtures/transfer-tasks.mjs', import.meta.url);

const VIEW_TYPES = ['ArrayBuffer', 'Uint8Array', 'Int16Array', 'Float64Array', 'DataView', 'Buffer'] as const;
type ViewType = (typeof VIEW_TYPES)[number];
const ELEMENT: Record<ViewType, number> = { ArrayBuffer: 1, Uint8Array: 1, Int16Array: 2, Float64Array: 8, DataView: 1, Buffer: 1 };

/** A value over buffer `buffer` of the arguments: its type, and a window in elements. */
interface ValueSpec {
  buffer: number;
  type: ViewType;
  start: number;
  length: number;
}

interface CallSpec {
  buffers: { size: number; seed: number; moved: boolean }[];
  values: ValueSpec[];
}

const callSpec: fc.Arbitrary<CallSpec> = fc
  .array(fc.record({ size: fc.integer({ min: 0, max: 20 }).map((n) => n * 8), seed: fc.nat(255), moved: fc.boolean() }), {
    minLength: 1,
    maxLength: 4,
  })
  .chain((buffers) =>
    fc
      .array(
        fc.record({ buffer: fc.nat(buffers.length - 1), type: fc.constantFrom(...VIEW_TYPES), start: fc.nat(1000), length: fc.nat(1000) }),
        { minLength: 1, maxLength: 6 },
      )
      .map((values) => ({ buffers, values })),
  );

/** What the fixture's `look` reports of a value, computed on this side. */
function describeValue(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { kind: 'ArrayBuffer', byteLength: value.byteLength, bytes: [...new Uint8Array(value)] };
  const view = value as ArrayBufferView;
  return {
    kind: view.constructor.name,
    byteOffset: view.byteOffset,
    byteLength: view.byteLength,
    bufferLength: view.buffer.byteLength,
    shared: false,
    bytes: [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)],
  };
}

function build(spec: CallSpec): { args: unknown[]; expected: unknown[]; buffers: ArrayBuffer[] } {
  const buffers = spec.buffers.map(({ size, seed }) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (seed + i * 31) % 256;
    return bytes.buffer;
  });
  const args: unknown[] = [];
  const expected: unknown[] = [];
  for (const value of spec.values) {
    const buffer = buffers[value.buffer];
    const all = new Uint8Array(buffer);
    if (value.type === 'ArrayBuffer') {
      args.push(buffer);
      expected.push({ kind: 'ArrayBuffer', byteLength: buffer.byteLength, bytes: [...all] });
      continue;
    }
    const element = ELEMENT[value.type];
    const elements = buffer.byteLength / element;
    const start = elements === 0 ? 0 : value.start % (elements + 1);
    const length = value.length % (elements - start + 1);
    const byteOffset = start * element;
    const byteLength = length * element;
    const view =
      value.type === 'DataView'
        ? new DataView(buffer, byteOffset, byteLength)
        : value.type === 'Buffer'
          ? Buffer.from(buffer, byteOffset, length)
          : value.type === 'Int16Array'
            ? new Int16Array(buffer, byteOffset, length)
            : value.type === 'Float64Array'
              ? new Float64Array(buffer, byteOffset, length)
              : new Uint8Array(buffer, byteOffset, length);
    args.push(view);
    expected.push({
      kind: value.type,
      byteOffset: spec.buffers[value.buffer].moved ? byteOffset : 0,
      byteLength,
      bufferLength: spec.buffers[value.buffer].moved ? buffer.byteLength : byteLength,
      shared: false,
      bytes: [...all.subarray(byteOffset, byteOffset + byteLength)],
    });
  }
  spec.buffers.forEach(({ moved }, i) => {
    if (moved) transfer(buffers[i]);
  });
  return { args, expected, buffers };
}

describe('moved and copied buffers, mixed at random', () => {
  let pool: ThreadPool<typeof Tasks>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
  });
  afterAll(() => pool.close());

  it('arrive byte for byte, views at their offsets', async () => {
    await fc.assert(
      fc.asyncProperty(callSpec, async (spec) => {
        const { args, expected, buffers } = build(spec);
        const seen = await pool.run('look', ...args);
        // A copied view arrives over a buffer of its own bytes; a moved one over the whole buffer.
        expect(seen.values).toEqual(expected);
        // Only a marked buffer the arguments name moves.
        const named = new Set(spec.values.map((value) => value.buffer));
        spec.buffers.forEach(({ moved, size }, i) => {
          expect(buffers[i].byteLength).toBe(moved && named.has(i) ? 0 : size);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('come back byte for byte when the task moves them back', async () => {
    await fc.assert(
      fc.asyncProperty(callSpec, async (spec) => {
        const { args, expected } = build(spec);
        const back = (await pool.run('roundTrip', ...args)) as unknown[];
        expect(back.map(describeValue)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});
