// The task module: every worker thread imports it, and the processor calls `handleToolCall` with
// each request. The inline server calls the very same function on its event loop.

/** The tools, by name. Each takes the parsed arguments object and returns a JSON-able result. */
const TOOLS = {
  /** Returns its arguments. */
  echo: (args) => args,
  /** CPU-bound: `rounds` rounds of an integer hash over `text` (about 2 ms per million rounds here). */
  hash: ({ text, rounds }) => {
    if (typeof text !== 'string' || !Number.isInteger(rounds) || rounds < 0 || rounds > 100_000_000) {
      throw new TypeError('hash needs { text: string, rounds: integer from 0 to 100000000 }');
    }
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    for (let i = 0; i < rounds; i++) {
      h = Math.imul(h ^ i, 0x01000193);
      h ^= h >>> 13;
    }
    return { digest: (h >>> 0).toString(16).padStart(8, '0') };
  },
  /** Always throws: how a broken tool looks to the client. */
  fail: ({ message }) => {
    throw new Error(String(message ?? 'the tool failed'));
  },
};

/**
 * Runs one tool call: `{ tool, argumentsJson }` → the result's JSON text. Throws on an unknown tool,
 * arguments that are not a JSON object, or a tool that fails; the server turns that into an error
 * response for this request only.
 */
export function handleToolCall({ tool, argumentsJson }) {
  const run = Object.hasOwn(TOOLS, tool) ? TOOLS[tool] : undefined;
  if (run === undefined) throw new Error(`no tool named ${JSON.stringify(tool)}`);
  let args;
  try {
    args = JSON.parse(argumentsJson || '{}');
  } catch {
    throw new Error('arguments_json is not valid JSON');
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new Error('arguments_json must be a JSON object');
  return JSON.stringify(run(args));
}
