/**
 * The checks every facade's options share (pool, processor, cluster, per-call options). Each takes
 * the option's name and the value given, and returns the value in the form the code uses or throws
 * an InvalidOptionError that names the option and shows what was given.
 *
 * Time limits and periods: `setTimeout` takes at most 2^31−1 ms, but a limit here may be any
 * positive number up to `Infinity` (time/timer.ts waits longer delays out in steps).
 */
import { InvalidOptionError } from '../errors.js';

/** Checks one option's value; throws InvalidOptionError naming `option` when it is invalid. */
export type Validator<T> = (option: string, value: unknown) => T;

/** An integer from `min` to `max`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Validator<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return (option, value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidOptionError(option, `expected an integer ${range}, got ${describe(value)}`);
    }
    return value;
  };
}

/** A count that may be 0, or `Infinity` for no limit (`maxQueue`). */
export const countOrInfinity: Validator<number> = (option, value) => {
  if (value === Infinity || (typeof value === 'number' && Number.isInteger(value) && value >= 0)) return value;
  throw new InvalidOptionError(option, `expected an integer of 0 or more, or Infinity for no limit, got ${describe(value)}`);
};

/** A number from `min` to `max`. */
export function number(min: number, max: number): Validator<number> {
  return (option, value) => {
    if (typeof value !== 'number' || !(value >= min && value <= max)) {
      throw new InvalidOptionError(option, `expected a number from ${min} to ${max}, got ${describe(value)}`);
    }
    return value;
  };
}

export const flag: Validator<boolean> = (option, value) => {
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, `expected true or false, got ${describe(value)}`);
  return value;
};

/** A limit or period in milliseconds: a positive number, `Infinity` meaning none. */
export const positiveMilliseconds: Validator<number> = (option, value) => {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new InvalidOptionError(option, `expected a positive number of milliseconds (Infinity for no limit), got ${describe(value)}`);
  }
  return value;
};

/** A limit in milliseconds where 0 is meaningful (at once): 0 or more, `Infinity` meaning none. */
export const millisecondsOrZero: Validator<number> = (option, value) => {
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new InvalidOptionError(option, `expected a number of milliseconds of 0 or more (Infinity for no limit), got ${describe(value)}`);
  }
  return value;
};

/** `check`, or nothing. */
export function optional<T>(check: Validator<T>): Validator<T | undefined> {
  return (option, value) => (value === undefined ? undefined : check(option, value));
}

/** An AbortSignal, or nothing. */
export const abortSignal: Validator<AbortSignal | undefined> = (option, value) => {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new InvalidOptionError(option, `expected an AbortSignal, got ${describe(value)}`);
  }
  return value;
};

/** One of `choices`. */
export function oneOf<T extends string>(...choices: T[]): Validator<T> {
  return (option, value) => {
    if (!choices.includes(value as T)) {
      const quoted = choices.map((choice) => `'${choice}'`);
      const expected = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
      throw new InvalidOptionError(option, `expected ${expected}, got ${describe(value)}`);
    }
    return value as T;
  };
}

/** A function, or nothing; `shape` says what it is called with, for the message. */
export function optionalFunction<F extends (...args: never[]) => unknown>(shape: string): Validator<F | undefined> {
  return (option, value) => {
    if (value !== undefined && typeof value !== 'function') {
      throw new InvalidOptionError(option, `expected a function ${shape}, got ${describe(value)}`);
    }
    return value as F | undefined;
  };
}

/** An object, or nothing; `what` says which, for the message. */
export function optionalObject<T>(what = 'an object'): Validator<T | undefined> {
  return (option, value) => {
    if (value !== undefined && (value === null || typeof value !== 'object')) {
      throw new InvalidOptionError(option, `expected ${what}, got ${describe(value)}`);
    }
    return value as T | undefined;
  };
}

/** A non-empty string. */
export const nonEmptyString: Validator<string> = (option, value) => {
  if (typeof value !== 'string' || value === '')
    throw new InvalidOptionError(option, `expected a non-empty string, got ${describe(value)}`);
  return value;
};

/** An array of strings (copied), or nothing. */
export const optionalStrings: Validator<string[] | undefined> = (option, value) => {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidOptionError(option, `expected an array of strings, got ${describe(value)}`);
  }
  return [...value];
};

/** The name of a function the task module exports, or nothing. */
export const optionalExportName: Validator<string | undefined> = (option, value) => {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw new InvalidOptionError(option, `expected the name of a function exported by the task module, got ${describe(value)}`);
  }
  return value;
};

/** A handler of failures nobody else can be told about; by default each becomes a process warning. */
export function errorHandler(option: string, value: unknown): (error: Error) => void {
  return optionalFunction<(error: Error) => void>('(error) => void')(option, value) ?? emitProcessWarning;
}

/** The `onError` of whoever was given none: a process warning (so it can be told from a given one). */
export const emitProcessWarning = (error: Error): void => {
  process.emitWarning(error);
};

/** What was given, as a message shows it: strings quoted, objects by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
