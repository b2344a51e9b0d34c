// The demo's task module: every worker of both pools imports it. A task is an exported function.

/** A request handler that does almost nothing: the cost measured is the pool's. */
export function trivial(request) {
  return { id: request.id, len: request.msg.length };
}

/** CPU-bound work: an integer hash loop of `iterations` rounds. */
export function hashWork({ iterations, seed }) {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < iterations; i++) {
    h = Math.imul(h ^ i, 0x01000193);
    h ^= h >>> 13;
  }
  return h >>> 0;
}
