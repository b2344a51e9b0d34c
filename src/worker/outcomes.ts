/** Small helpers for task outcomes: promises, synchronous calls, and errors that must always be encodable. */

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Links of a `cause` chain that `plainError` keeps (a chain may loop back on itself). */
const MAX_CAUSES = 4;

/**
 * An Error that certainly encodes: the name, message, stack and string code of the original, and
 * its `cause` reduced the same way (an EncodeError's cause is what a getter or Proxy threw).
 */
export function plainError(error: unknown, depth = 0): Error {
  if (!(error instanceof Error)) return new Error(safeString(error));
  const plain = new Error(String(error.message)) as Error & { code?: string; path?: string };
  plain.name = String(error.name);
  plain.stack = String(error.stack);
  const { code, path } = error as { code?: unknown; path?: unknown };
  if (typeof code === 'string') plain.code = code;
  // An EncodeError's path: where in the value it failed.
  if (typeof path === 'string') plain.path = path;
  if (depth < MAX_CAUSES && Object.hasOwn(error, 'cause')) plain.cause = plainError(error.cause, depth + 1);
  return plain;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Calls a function that must not return a promise (its caller waits for it synchronously). */
export function callSync(fn: (...args: unknown[]) => unknown, args: unknown[], where: string): unknown {
  const result = fn(...args);
  if (isThenable(result)) {
    result.then(undefined, () => {});
    throw new TypeError(`${where}: the task returned a promise; tasks started inside a task must be synchronous`);
  }
  return result;
}
