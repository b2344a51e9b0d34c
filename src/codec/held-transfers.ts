/**
 * Values marked with `transfer()` in the main thread's calls: held here from the call until the
 * worker that decodes the call asks for them (docs/internals/transfers.md).
 *
 * A call is not a message to a known worker: any worker may take it from the injector or steal
 * it, and only the one that decodes its payload knows it is the reader. So the encode writes a
 * token and an index in place of each moved value (moved-extension.ts); right after it, the main
 * thread detaches the values from the caller (`holdEncoded`: no copy, the memory changes owner)
 * and holds them under that token. The worker that decodes the payload posts the token on its pull
 * port and waits; the main thread answers on the worker's buffer port with the values in the
 * transfer list (pool/pulls.ts). Each token is answered once: the values move exactly once, to the
 * worker that runs the call. The call's end lets go of what nobody pulled (aborted, timed out,
 * abandoned, pool stopped): `release`.
 */
import { MessagePort } from 'node:worker_threads';
import type { Movable } from './passed-buffers.js';

/** The main thread's answer to a pull, on the worker's buffer port: the values, or none left. */
export type PullAnswer = { moved: number; values: Movable[] } | { moved: number; lost: true };

export class HeldTransfers {
  /** Values detached from their callers and not pulled yet, by token. */
  private readonly held = new Map<number, Movable[]>();
  private nextToken = 1;
  /** The token of the encode in progress (0 until it moves something) and what it moves, by index. */
  private encodeToken = 0;
  private readonly encoding = new Map<Movable, number>();

  /** Called before each encode. */
  startEncoding(): void {
    this.encodeToken = 0;
    if (this.encoding.size !== 0) this.encoding.clear();
  }

  /** The token and index `value` travels under in the payload being encoded. */
  refFor(value: Movable): [token: number, index: number] {
    if (this.encodeToken === 0) {
      this.encodeToken = this.nextToken;
      this.nextToken = this.nextToken === 0xffffffff ? 1 : this.nextToken + 1;
    }
    let index = this.encoding.get(value);
    if (index === undefined) {
      index = this.encoding.size;
      this.encoding.set(value, index);
    }
    return [this.encodeToken, index];
  }

  /**
   * Right after an encode whose payload will be queued: detaches what it moves from the caller and
   * holds it under the payload's token, which it returns (0 when it moves nothing).
   */
  holdEncoded(): number {
    const token = this.encodeToken;
    if (token === 0) return 0;
    this.held.set(token, Array.from(this.encoding.keys(), detach));
    this.startEncoding();
    return token;
  }

  /** A worker asks for `token`: what to post to it, now let go of here; undefined when gone. */
  take(token: number): Movable[] | undefined {
    const values = this.held.get(token);
    this.held.delete(token);
    return values;
  }

  /** The call of `token` is over: what no worker pulled is let go of (ports are closed). */
  release(token: number): void {
    const values = this.take(token);
    if (values === undefined) return;
    for (const value of values) if (value instanceof MessagePort) value.close();
  }

  /** How many tokens are held (for tests and statistics). */
  get size(): number {
    return this.held.size;
  }
}

/**
 * A new owner of `value`'s memory or port, leaving `value` detached at once, without a copy.
 * `ArrayBuffer.prototype.transfer` where the runtime has it; a structured clone that transfers
 * otherwise (Node 20, and always for ports). Bun's clone of a port is the port itself.
 */
function detach(value: Movable): Movable {
  if (value instanceof ArrayBuffer && typeof (value as { transfer?: unknown }).transfer === 'function') {
    return (value as ArrayBuffer & { transfer(): ArrayBuffer }).transfer();
  }
  return structuredClone(value, { transfer: [value] as never[] });
}

/** Worker: the values of the tokens the payload being decoded names, pulled once each. */
export class PulledTransfers {
  private readonly pulled = new Map<number, Movable[]>();
  private pull: ((token: number) => Movable[]) | undefined;

  /** Called by a worker at start-up: `pull` asks the main thread for a token's values and waits. */
  becomeWorker(pull: (token: number) => Movable[]): void {
    this.pull = pull;
  }

  /** Value `index` of `token`, for the payload being decoded. */
  value(token: number, index: number): Movable {
    let values = this.pulled.get(token);
    if (values === undefined) {
      values = this.pull!(token);
      this.pulled.set(token, values);
    }
    return values[index];
  }

  /** After every decode: what it pulled is the decoded value's now. */
  finishDecoding(): void {
    if (this.pulled.size !== 0) this.pulled.clear();
  }
}

/** The main thread's held transfers, and a worker's pulls (one of each per thread). */
export const heldTransfers = new HeldTransfers();
export const pulledTransfers = new PulledTransfers();
