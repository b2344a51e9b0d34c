/**
 * A msgpack extension for Error objects that keeps what msgpackr's own drops: the original stack
 * (the thread that threw it, not the one that decoded it), `code`, a nested `cause` and every own
 * property. msgpackr's extension table is global to a thread, so every thread that encodes or
 * decodes must call `registerErrorExtension` before its first pack or unpack; the codec does.
 */
import { addExtension } from 'msgpackr';

/** Extension type byte; msgpackr's built-in extensions do not use it. */
const ERROR_EXTENSION = 0x45;

type ErrorConstructorLike = new (message?: string, options?: { cause?: unknown }) => Error;

const BUILT_IN_ERRORS: Record<string, ErrorConstructorLike> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/** Fields written separately; everything else enumerable travels in `props`. */
const STANDARD_FIELDS = new Set(['name', 'message', 'stack', 'code', 'cause']);

type EncodedError = [
  name: string,
  message: string,
  stack: string | undefined,
  code: unknown,
  cause: unknown,
  props: Record<string, unknown> | undefined,
  errors: unknown[] | undefined,
];

function writeError(error: Error): EncodedError {
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(error)) {
    if (STANDARD_FIELDS.has(key)) continue;
    props ??= {};
    props[key] = (error as unknown as Record<string, unknown>)[key];
  }
  const withCode = error as Error & { code?: unknown };
  const errors = error instanceof AggregateError ? [...error.errors] : undefined;
  return [String(error.name), String(error.message), error.stack, withCode.code, error.cause, props, errors];
}

function readError([name, message, stack, code, cause, props, errors]: EncodedError): Error {
  const options = cause === undefined ? undefined : { cause };
  let error: Error;
  if (errors !== undefined) {
    error = new AggregateError(errors, message, options);
  } else {
    const Constructor = Object.hasOwn(BUILT_IN_ERRORS, name) ? BUILT_IN_ERRORS[name] : Error;
    error = new Constructor(message, options);
  }
  if (error.name !== name) {
    Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true });
  }
  if (stack === undefined) delete error.stack;
  else Object.defineProperty(error, 'stack', { value: stack, writable: true, configurable: true });
  if (code !== undefined) (error as Error & { code?: unknown }).code = code;
  if (props !== undefined) Object.assign(error, props);
  return error;
}

let registered = false;

export function registerErrorExtension(): void {
  if (registered) return;
  registered = true;
  addExtension({
    Class: Error,
    type: ERROR_EXTENSION,
    write: writeError,
    read: readError,
  });
}
