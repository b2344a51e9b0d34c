// The demo's task module: a JSON-RPC 2.0 endpoint for tool calls, as an MCP-style server receives
// them. Both engines' workers import it and run the same handler on the same raw request text.

import { createHash } from 'node:crypto';

/** JSON-RPC 2.0 error codes. */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

/**
 * Handles one raw request: parses it, validates it, runs the tool it names. Returns the JSON-RPC
 * response, with when the handler started (`performance.timeOrigin + performance.now()`, a clock
 * every thread shares) and how long it ran, so that the demo measures both engines the same way.
 * A tool that breaks throws: the caller sees a failed request, never a failed stream.
 */
export function handleToolCall(raw) {
  const startedAt = performance.timeOrigin + performance.now();
  const response = respond(raw);
  return { response, startedAt, ranMs: performance.timeOrigin + performance.now() - startedAt };
}

function respond(raw) {
  let message;
  try {
    message = JSON.parse(raw);
  } catch {
    return failure(null, PARSE_ERROR, 'parse error');
  }
  const id = typeof message?.id === 'number' || typeof message?.id === 'string' ? message.id : null;
  if (message?.jsonrpc !== '2.0' || id === null) return failure(id, INVALID_REQUEST, 'not a JSON-RPC 2.0 request with an id');
  if (message.method === 'ping') return { jsonrpc: '2.0', id, result: {} };
  if (message.method !== 'tools/call') return failure(id, METHOD_NOT_FOUND, `no method ${JSON.stringify(message.method)}`);
  const tool = TOOLS[message.params?.name];
  if (tool === undefined) return failure(id, INVALID_PARAMS, `no tool ${JSON.stringify(message.params?.name)}`);
  const problem = checkArguments(tool.schema, message.params.arguments);
  if (problem !== undefined) return failure(id, INVALID_PARAMS, problem);
  return { jsonrpc: '2.0', id, result: tool.run(message.params.arguments) };
}

function failure(id, code, message) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** Each argument's type and range: enough validation to reject what a tool could not handle. */
function checkArguments(schema, args) {
  if (args === null || typeof args !== 'object') return 'arguments must be an object';
  for (const [name, rule] of Object.entries(schema)) {
    const value = args[name];
    if (rule.type === 'integer') {
      if (!Number.isInteger(value) || value < rule.min || value > rule.max)
        return `${name} must be an integer in [${rule.min}, ${rule.max}]`;
    } else if (rule.type === 'numbers') {
      if (!Array.isArray(value) || value.length !== rule.length || !value.every(Number.isFinite))
        return `${name} must be ${rule.length} numbers`;
    } else if (typeof value !== 'string' || value.length === 0 || value.length > rule.maxLength) {
      return `${name} must be a non-empty string of at most ${rule.maxLength} characters`;
    }
  }
  return undefined;
}

/** A small deterministic generator (mulberry32): the tools build their inputs from a seed. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['mesh', 'light', 'camera', 'prefab', 'shader', 'collider', 'rigidbody', 'texture', 'anchor', 'canvas', 'sprite', 'terrain'];

const TOOLS = {
  /** Transforms a mesh's vertices by a 4x4 matrix and returns their bounding box. */
  'mesh.transform': {
    schema: {
      vertices: { type: 'integer', min: 1, max: 1_000_000 },
      seed: { type: 'integer', min: 0, max: 2 ** 31 },
      matrix: { type: 'numbers', length: 16 },
    },
    run({ vertices, seed, matrix: m }) {
      const next = random(seed);
      const min = [Infinity, Infinity, Infinity];
      const max = [-Infinity, -Infinity, -Infinity];
      for (let i = 0; i < vertices; i++) {
        const x = next() * 10 - 5;
        const y = next() * 10 - 5;
        const z = next() * 10 - 5;
        const w = m[12] * x + m[13] * y + m[14] * z + m[15];
        const out = [
          (m[0] * x + m[1] * y + m[2] * z + m[3]) / w,
          (m[4] * x + m[5] * y + m[6] * z + m[7]) / w,
          (m[8] * x + m[9] * y + m[10] * z + m[11]) / w,
        ];
        for (let axis = 0; axis < 3; axis++) {
          if (out[axis] < min[axis]) min[axis] = out[axis];
          if (out[axis] > max[axis]) max[axis] = out[axis];
        }
      }
      return { vertices, bounds: { min: min.map(round), max: max.map(round) } };
    },
  },
  /** Searches a scene description for a word and counts the hits. */
  'scene.search': {
    schema: {
      words: { type: 'integer', min: 1, max: 1_000_000 },
      seed: { type: 'integer', min: 0, max: 2 ** 31 },
      query: { type: 'string', maxLength: 64 },
    },
    run({ words, seed, query }) {
      const next = random(seed);
      const text = Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ');
      let hits = 0;
      for (let at = text.indexOf(query); at !== -1; at = text.indexOf(query, at + query.length)) hits++;
      return { words, hits };
    },
  },
  /** Digests an asset's bytes (SHA-256). Assets over 4 MB break it: a tool failure, on purpose. */
  'asset.digest': {
    schema: { bytes: { type: 'integer', min: 1, max: 64 * 1024 * 1024 }, seed: { type: 'integer', min: 0, max: 2 ** 31 } },
    run({ bytes, seed }) {
      if (bytes > 4 * 1024 * 1024) throw new Error(`asset of ${bytes} bytes is larger than the digest buffer`);
      const next = random(seed);
      const data = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i++) data[i] = (next() * 256) | 0;
      return { bytes, sha256: createHash('sha256').update(data).digest('hex') };
    },
  },
  /** Sorts sampled frame times and summarises them. */
  'profiler.summarize': {
    schema: { samples: { type: 'integer', min: 1, max: 1_000_000 }, seed: { type: 'integer', min: 0, max: 2 ** 31 } },
    run({ samples, seed }) {
      const next = random(seed);
      const times = Float64Array.from({ length: samples }, () => 16.7 * (0.5 + next()));
      times.sort();
      const at = (q) => round(times[Math.min(samples - 1, Math.floor(q * samples))]);
      return { samples, p50: at(0.5), p99: at(0.99), max: round(times[samples - 1]) };
    },
  },
};

function round(value) {
  return Math.round(value * 1000) / 1000;
}
