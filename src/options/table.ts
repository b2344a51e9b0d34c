/**
 * An options table: every option of one facade (the pool, the processor, a cluster client or node,
 * a call) declared once, with its default and its check. The set of known names, the resolution
 * of a caller's options object, the pool's builder and the option tables of docs/guide/ are all
 * derived from it; an option's prose is the TSDoc of its interface property, which the compiler
 * ties to the table (`satisfies OptionTable<TheOptions>` requires exactly one entry per property).
 */
import { InvalidOptionError } from '../errors.js';
import type { Validator } from './validators.js';

export interface OptionSpec<T> {
  /** Checks the value given (or the default) and returns it in the form the code uses. */
  validate: Validator<T>;
  /**
   * Used when the option is absent (`undefined`; `null` is a value, refused unless valid). A default computed when the options are
   * resolved (from the environment, the CPUs) is the validator's to compute from `undefined`.
   */
  default?: unknown;
  /** How the docs state the default when it is not `default` itself (computed, or a function). */
  defaultDoc?: string;
  /** The name this option had before: still accepted, with a DeprecationWarning, until the next minor version. */
  deprecatedName?: string;
}

/** One spec per property of the options interface `O`. */
export type OptionTable<O> = { readonly [K in keyof Required<O>]: OptionSpec<unknown> };

/** The options a table resolves to: each one's checked value, defaults filled in. */
export type Resolved<T> = { -readonly [K in keyof T]: T[K] extends OptionSpec<infer V> ? V : never };

const warned = new Set<string>();

/**
 * Checks `given` against `table`: refuses a non-object and unknown names, maps deprecated names
 * (warning once per process for each), fills in the defaults and runs every check. `hint` says
 * what the options object should look like, for the message when it is not an object.
 */
export function resolveTable<T extends Record<string, OptionSpec<unknown>>>(table: T, given: unknown, hint: string): Resolved<T> {
  const { options, givenAs } = knownOptions(table, given, hint);
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const value = options[name];
    resolved[name] = spec.validate(givenAs[name] ?? name, value === undefined ? spec.default : value);
  }
  return resolved as Resolved<T>;
}

/**
 * `given` with deprecated names replaced by current ones (and, by current name, the deprecated
 * name it was given under, for messages), after refusing what is not an object, a name the table
 * does not know, and an option given under both its names.
 */
function knownOptions(
  table: Record<string, OptionSpec<unknown>>,
  given: unknown,
  hint: string,
): { options: Record<string, unknown>; givenAs: Record<string, string> } {
  if (given === null || typeof given !== 'object') throw new InvalidOptionError('options', `expected ${hint}`);
  const options: Record<string, unknown> = {};
  const givenAs: Record<string, string> = {};
  for (const [key, value] of Object.entries(given)) {
    if (Object.hasOwn(table, key)) {
      options[key] = value;
      continue;
    }
    const current = currentName(table, key);
    if (current === undefined) throw new InvalidOptionError(key, `unknown option; known: ${Object.keys(table).join(', ')}`);
    if (Object.hasOwn(given, current)) {
      throw new InvalidOptionError(key, `is the deprecated name of \`${current}\`, which is given too; give \`${current}\` only`);
    }
    warnDeprecated(key, current);
    options[current] = value;
    givenAs[current] = key;
  }
  return { options, givenAs };
}

/** The current name of an option given under its deprecated `name`, if the table has one. */
function currentName(table: Record<string, OptionSpec<unknown>>, name: string): string | undefined {
  for (const [current, spec] of Object.entries(table)) if (spec.deprecatedName === name) return current;
  return undefined;
}

/** One DeprecationWarning per deprecated name and process. */
export function warnDeprecated(old: string, current: string): void {
  if (warned.has(old)) return;
  warned.add(old);
  process.emitWarning(`viscose: \`${old}\` is deprecated and will be removed in the next minor version; use \`${current}\``, {
    type: 'DeprecationWarning',
    code: `VISCOSE_DEP_${old.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}`,
  });
}
