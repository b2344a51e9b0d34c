/**
 * The payloads a thread's codec encodes into memory it reuses (msgpackr's buffer, the chunk buffer,
 * one descriptor), and the one of them that code about to run must not overwrite.
 *
 * A payload is normally stored before anything else is encoded. One window lets other code run in
 * between: submitting a call consumes finished tasks first, and that runs their observers' `ran`
 * and their `onEvent` listeners, which may make calls of their own and so encode again into the
 * same memory. The dispatcher holds the payload across that window (`hold`, `release`); an encode
 * that comes while one is held first moves the held payload to memory of its own.
 */
import type { EncodedPayload } from './payload.js';

export class UnstoredPayload {
  /** Reused for each payload: the hot path allocates no descriptor per call. */
  private reused: EncodedPayload = emptyPayload();
  private held: EncodedPayload | undefined;

  /** The descriptor to fill for a payload about to be encoded into reused memory. */
  get descriptor(): EncodedPayload {
    return this.reused;
  }

  /** `payload` must stay as it is until `release`, whatever is encoded meanwhile. */
  hold(payload: EncodedPayload): void {
    this.beforeEncode();
    this.held = payload;
  }

  release(payload: EncodedPayload): void {
    if (this.held === payload) this.held = undefined;
  }

  /** Called before every encode: the held payload, if any, moves out of reused memory. */
  beforeEncode(): void {
    const payload = this.held;
    if (payload === undefined) return;
    this.held = undefined;
    if (payload.bytes !== undefined) {
      payload.bytes = payload.bytes.slice(payload.start, payload.start + payload.length);
      payload.start = 0;
    }
    if (payload.scalars !== undefined) payload.scalars = [...payload.scalars];
    if (payload === this.reused) this.reused = emptyPayload();
  }
}

function emptyPayload(): EncodedPayload {
  return { kind: 0, tags: 0, length: 0, bytes: undefined, start: 0, scalars: undefined };
}
