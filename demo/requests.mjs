// The demo's request stream: raw JSON-RPC tool calls, as they would arrive on a connection, with a
// few malformed or breaking ones among them. Deterministic for a given seed.

/** How much work a tool call asks for: a few hundred microseconds of CPU on average. */
const SIZES = { vertices: [600, 6_000], words: [600, 6_000], bytes: [5_000, 50_000], samples: [600, 6_000] };

const IDENTITY_SCALED = [2, 0, 0, 1, 0, 2, 0, -1, 0, 0, 2, 0.5, 0, 0, 0, 1];

/**
 * MCP `ping` requests: next to nothing for the handler to do, so that the engine's own cost per
 * request is all there is to measure.
 */
export function makePings(count) {
  return Array.from({ length: count }, (_, id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
}

/** `count` raw tool calls, the `index`-th always the same for a given seed. */
export function makeToolCalls(count, seed = 1) {
  const next = lcg(seed);
  const between = ([low, high]) => low + Math.floor(next() * (high - low + 1));
  const requests = new Array(count);
  for (let id = 0; id < count; id++) {
    const kind = next();
    let call;
    if (kind < 0.3) call = { name: 'mesh.transform', arguments: { vertices: between(SIZES.vertices), seed: id, matrix: IDENTITY_SCALED } };
    else if (kind < 0.55) call = { name: 'scene.search', arguments: { words: between(SIZES.words), seed: id, query: 'collider' } };
    else if (kind < 0.75) call = { name: 'asset.digest', arguments: { bytes: between(SIZES.bytes), seed: id } };
    else call = { name: 'profiler.summarize', arguments: { samples: between(SIZES.samples), seed: id } };
    requests[id] = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: call });
    const fault = next();
    // About one request in a hundred is bad, and one in five hundred breaks its tool.
    if (fault < 0.002) requests[id] = requests[id].slice(0, -3);
    else if (fault < 0.004) requests[id] = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' });
    else if (fault < 0.006)
      requests[id] = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'mesh.delete', arguments: {} } });
    else if (fault < 0.01)
      requests[id] = JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'scene.search', arguments: { words: -1, seed: id, query: '' } },
      });
    else if (fault < 0.012)
      requests[id] = JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'asset.digest', arguments: { bytes: 8 * 1024 * 1024, seed: id } },
      });
  }
  return requests;
}

/** Frames of up to `size` requests, read asynchronously like messages arriving on a connection. */
export async function* frames(requests, size) {
  for (let start = 0; start < requests.length; start += size) {
    yield requests.slice(start, start + size);
  }
}

function lcg(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}
