/**
 * The delaying proxy (delay-proxy.c): added latency in front of Redis where `tc netem` is missing.
 * Built with the machine's C compiler on first use, once per version of its source, into the
 * system's temporary directory; started by whoever places it (a simulated host's harness in its
 * services cgroup, a test on loopback), then driven here over its standard input.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./delay-proxy.c', import.meta.url));

/** Why the proxy cannot be built here (no C compiler), or undefined when it can. */
export function delayProxyMissing() {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'the delaying proxy needs a C compiler, cc (apt-get install gcc)';
  }
}

/**
 * The command that starts a proxy listening on `listenAddress` (a free port) for `target:port`,
 * delaying each direction by `delayMs`; built first if it is not yet.
 * @param {{ listenAddress: string, targetAddress: string, targetPort: number, delayMs: number }} how
 * @returns {{ command: string, args: string[] }}
 */
export function delayProxyCommand({ listenAddress, targetAddress, targetPort, delayMs }) {
  return { command: built(), args: [listenAddress, targetAddress, String(targetPort), String(delayMs)] };
}

/** @type {string | undefined} */
let binary;

function built() {
  if (binary !== undefined) return binary;
  const source = readFileSync(SOURCE);
  const directory = join(tmpdir(), `viscose-delay-proxy-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
  const path = join(directory, 'delay-proxy');
  if (!existsSync(path)) {
    const missing = delayProxyMissing();
    if (missing !== undefined) throw new Error(missing);
    mkdirSync(directory, { recursive: true });
    // Built under a name of its own, then renamed: test files built it at once in parallel.
    const partial = `${path}.${process.pid}`;
    execFileSync('cc', ['-O2', '-pthread', '-o', partial, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(partial, path);
  }
  binary = path;
  return path;
}

/**
 * How late a proxy's chunks left, from when each was read: the delay set plus what the machine
 * added (the proxy's threads waiting for a CPU).
 * @typedef {{ chunks: number, meanMs: number, medianMs: number, p99Ms: number, maxMs: number }} Delays
 */

/** A started proxy, driven over its standard input. */
export class DelayProxy {
  /** @type {import('node:child_process').ChildProcess} */
  child;
  /** The port it listens on. */
  port;
  /** @type {{ resolve: (line: string) => void, reject: (error: Error) => void }[]} */
  #waiting = [];

  /**
   * @param {import('node:child_process').ChildProcess} child started from {@link delayProxyCommand}, with its standard input and output piped
   * @param {number} port
   * @param {AsyncIterable<string>} lines its output's lines after `listening`
   */
  constructor(child, port, lines) {
    this.child = child;
    this.port = port;
    void (async () => {
      for await (const line of lines) this.#waiting.shift()?.resolve(line);
      for (const { reject } of this.#waiting.splice(0)) reject(new Error('the delaying proxy exited'));
    })();
  }

  /**
   * Resolves once `child` listens.
   * @param {import('node:child_process').ChildProcess} child
   * @returns {Promise<DelayProxy>}
   */
  static async started(child) {
    const stdout = /** @type {import('node:stream').Readable} */ (child.stdout);
    const lines = createInterface({ input: stdout })[Symbol.asyncIterator]();
    const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the delaying proxy exited (${code})`))));
    const first = await Promise.race([lines.next(), exited]);
    const port = /^listening (\d+)$/.exec(first.value ?? '')?.[1];
    if (port === undefined) throw new Error(`the delaying proxy printed ${JSON.stringify(first.value)}, not its port`);
    return new DelayProxy(child, Number(port), { [Symbol.asyncIterator]: () => lines });
  }

  /**
   * Sets the delay of each direction for chunks read from now on.
   * @param {number} delayMs
   */
  async setDelay(delayMs) {
    await this.#ask(String(delayMs));
  }

  /** @returns {Promise<Delays>} the delays of every chunk written so far */
  async delays() {
    const [chunks, meanMs, medianMs, p99Ms, maxMs] = (await this.#ask('delays')).split(' ').slice(1).map(Number);
    return { chunks, meanMs, medianMs, p99Ms, maxMs };
  }

  /**
   * @param {string} line
   * @returns {Promise<string>} the line it answered
   */
  #ask(line) {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error('the delaying proxy exited');
      this.#waiting.push({ resolve, reject });
      this.child.stdin?.write(`${line}\n`);
    });
  }
}
