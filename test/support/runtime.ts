/** The JavaScript runtime the tests run on: Node.js, Bun or Deno (all run the pool suites). */
export const runtime: 'node' | 'bun' | 'deno' = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';
