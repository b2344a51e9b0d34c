/** Small helpers for task outcomes: promises, and errors that must always be encodable. */

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** An Error that certainly encodes: the name, message, stack and string code of the original. */
export function plainError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(safeString(error));
  const plain = new Error(String(error.message)) as Error & { code?: string };
  plain.name = String(error.name);
  plain.stack = String(error.stack);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') plain.code = code;
  return plain;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
