// A sort's buffers are kept for the next sort rather than left to the garbage collector: reused
// when large enough, the smallest that fits first, at most two kept, the others let go of.
import { describe, expect, it } from 'vitest';
import { ScratchBuffers } from '../../src/sort/scratch.js';
import { type AnyNumericArray, anyKind } from '../../src/sort/sortable.js';

const floats = (length: number): AnyNumericArray => anyKind(new Float64Array(length));

describe('scratch buffers', () => {
  it('reuse a buffer given back, as a view of the length asked for', () => {
    const dropped: SharedArrayBuffer[] = [];
    const scratch = new ScratchBuffers((buffer) => dropped.push(buffer));
    const first = scratch.take(floats(1000));
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    scratch.give([first]);
    const again = scratch.take(anyKind(new Int32Array(600)));
    expect(again.buffer).toBe(first.buffer);
    expect(again).toBeInstanceOf(Int32Array);
    expect(again.length).toBe(600);
    // Too small for what is asked: a new buffer.
    scratch.give([again]);
    expect(scratch.take(floats(2000)).buffer).not.toBe(first.buffer);
    expect(dropped).toEqual([]);
  });

  it('keep the two largest idle buffers and let go of the rest', () => {
    const dropped: SharedArrayBuffer[] = [];
    const scratch = new ScratchBuffers((buffer) => dropped.push(buffer));
    const [small, middle, large] = [10, 20, 30].map((length) => scratch.take(floats(length)));
    scratch.give([small, middle, large]);
    expect(dropped).toEqual([small.buffer]);
    // The smallest that fits.
    expect(scratch.take(floats(15)).buffer).toBe(middle.buffer);
  });

  it('let go of the buffers of a failed sort at once, and never hand them out again', () => {
    const dropped: SharedArrayBuffer[] = [];
    const scratch = new ScratchBuffers((buffer) => dropped.push(buffer));
    const failed = scratch.take(floats(100));
    scratch.letGo([failed]);
    expect(dropped).toEqual([failed.buffer]);
    expect(scratch.take(floats(100)).buffer).not.toBe(failed.buffer);
  });

  it('copy a view into shared memory', () => {
    const copy = new ScratchBuffers().copyOf(anyKind(new Float64Array([3, -0, Number.NaN])));
    expect(copy.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(copy as unknown as Float64Array)).toEqual([3, -0, Number.NaN]);
  });
});
