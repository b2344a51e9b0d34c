/**
 * The payloads a thread's codec encodes into memory it reuses (msgpackr's buffer, the chunk buffer,
 * one descriptor), and the one of them not stored yet.
 *
 * Code can run between an encode and its store: submitting consumes finished tasks first, and that
 * runs their observers' `ran` and their `onEvent` listeners, which may make calls of their own and
 * so encode again into the same memory. The codec says when it encodes (`beforeEncode`), what it
 * encoded (`encoded`) and what it stored or copied (`consumed`); an encode that comes while a
 * payload is not stored yet first moves that payload to memory of its own.
 */
import type { EncodedPayload } from './payload.js';

export class UnstoredPayload {
  /** Reused for each payload: the hot path allocates no descriptor per call. */
  private reused: EncodedPayload = emptyPayload();
  private unstored: EncodedPayload | undefined;

  /** The descriptor to fill for a payload about to be encoded into reused memory. */
  get descriptor(): EncodedPayload {
    return this.reused;
  }

  /** Called before every encode: the payload not stored yet, if any, moves out of reused memory. */
  beforeEncode(): void {
    const payload = this.unstored;
    if (payload === undefined) return;
    this.unstored = undefined;
    if (payload.bytes !== undefined) {
      payload.bytes = payload.bytes.slice(payload.start, payload.start + payload.length);
      payload.start = 0;
    }
    if (payload.scalars !== undefined) payload.scalars = [...payload.scalars];
    if (payload === this.reused) this.reused = emptyPayload();
  }

  /** `payload` was just encoded, into reused memory. */
  encoded(payload: EncodedPayload): EncodedPayload {
    this.unstored = payload;
    return payload;
  }

  /** `payload` was stored or copied: it no longer needs the memory it was encoded into. */
  consumed(payload: EncodedPayload): void {
    if (payload === this.unstored) this.unstored = undefined;
  }
}

function emptyPayload(): EncodedPayload {
  return { kind: 0, tags: 0, length: 0, bytes: undefined, start: 0, scalars: undefined };
}
