/** Typed views over the pool's shared buffer (queue/open.ts builds the queues over it). */

/** Views of the pool's shared buffer. */
export interface SharedViews {
  words: Int32Array;
  bytes: Uint8Array;
  f64: Float64Array;
}

export function sharedViews(buffer: SharedArrayBuffer): SharedViews {
  return {
    words: new Int32Array(buffer),
    bytes: new Uint8Array(buffer),
    f64: new Float64Array(buffer),
  };
}
