/**
 * A failure must reach whoever waits for it, whatever maxPayloadBytes says and however full the
 * arena is: a worker that cannot store an error has no way left to settle the call, and would leave
 * it to crash recovery as if the worker had died. So a failure is stored as the first of these that
 * fits: the error itself; a plain copy (name, message, stack, code, causes: no value that cannot
 * cross threads); brief copies (name, code and as much of the message as fits, no stack), which may
 * take the slot's own inline area even past maxPayloadBytes: stored there, a report takes no arena
 * memory, and the briefest always fits.
 */
import type { PayloadCodec } from '../codec/payload.js';
import { plainError } from './outcomes.js';

/** Wraps the stored error in whatever frame its reader expects (a batch index, a scope record). */
type Frame = (error: unknown) => unknown;

/** Brief copies keep at most this many characters of the message, then half as many, down to none. */
const BRIEF_MESSAGE_CHARS = 256;

/**
 * Stores `failure` in `slot` as the first form that fits (see the file comment). `storeFull`, when
 * given, makes the first attempt, so a caller can pass buffers along with the error; it must leave
 * the slot as it was when it throws.
 */
export function storeFailure(codec: PayloadCodec, slot: number, failure: unknown, frame: Frame, storeFull?: () => void): void {
  if (storeFull !== undefined) {
    try {
      storeFull();
      return;
    } catch {
      // Falls through to the reduced forms.
    }
  }
  for (const [form, brief, last] of reducedForms(failure)) {
    try {
      codec.store(slot, brief ? codec.encodeReport(frame(form), 'error') : codec.encodeValue(frame(form), 'error'));
      return;
    } catch (error) {
      if (last) throw error;
    }
  }
}

/**
 * `failure`, or the first reduced form of it that encodes within maxPayloadBytes on its own (the
 * briefest if none does): for an outcome that carries several errors, such as a settled batch's.
 */
export function crossableError(codec: PayloadCodec, failure: unknown): unknown {
  let form = failure;
  const forms = reducedForms(failure);
  for (;;) {
    try {
      codec.encodeValue(form, 'error');
      return form;
    } catch {
      const next = forms.next();
      if (next.done) return form;
      form = next.value[0];
    }
  }
}

/** The plain copy, then the brief copies; `last` marks the briefest. */
function* reducedForms(failure: unknown): Generator<[form: Error, brief: boolean, last: boolean]> {
  yield [plainError(failure), false, false];
  for (let chars = BRIEF_MESSAGE_CHARS; chars >= 0; chars = chars > 0 ? chars >> 1 : -1) {
    yield [briefError(failure, chars), true, chars === 0];
  }
}

/** The error's name, string code and first `chars` characters of its message; no stack, no cause. */
function briefError(failure: unknown, chars: number): Error {
  const plain = plainError(failure) as Error & { code?: string };
  const message = plain.message.length > chars ? `${plain.message.slice(0, chars)}…` : plain.message;
  const brief = new Error(chars === 0 ? '' : message) as Error & { code?: string };
  // A long name or code would not fit either; only the briefest form, with no message, drops them.
  brief.name = chars === 0 ? 'Error' : plain.name.slice(0, 64);
  if (plain.code !== undefined && chars > 0) brief.code = plain.code.slice(0, 64);
  // An own data property, so that the error extension writes no stack rather than this thread's.
  Object.defineProperty(brief, 'stack', { value: undefined, writable: true, configurable: true });
  return brief;
}
