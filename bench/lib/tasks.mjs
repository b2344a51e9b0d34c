// The task bodies every contender runs. Worker entry files in ../workers/ only wrap these in each
// library's worker API, so that a difference in the numbers is a difference in the pools.

/** The trivial task: `{id, msg}` → `{id, len}`. Its cost is negligible next to any hand-off. */
export function trivial(request) {
  return { id: request.id, len: request.msg.length };
}

/**
 * CPU-bound work: `{n, seed}` → a 32-bit hash after `n` rounds of an integer mixing loop (FNV-style
 * multiply, xorshift). Its cost is linear in `n`; the runner calibrates `n` for 2 ms once per run.
 */
export function cpu(request) {
  let h = (0x811c9dc5 ^ request.seed) | 0;
  for (let i = 0; i < request.n; i++) {
    h = Math.imul(h ^ i, 16777619);
    h ^= h >>> 13;
  }
  return h;
}

/**
 * The request handler of workload H: a JSON-RPC-like request, `{ id, method: 'ping' }` answered at
 * once, or `{ id, method: 'work', n, seed }` that runs `cpu` first.
 */
export function handleRequest(request) {
  if (request.method === 'ping') return { id: request.id };
  return { id: request.id, hash: cpu(request) };
}
