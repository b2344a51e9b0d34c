/**
 * Every time limit and period a caller gives (call and task timeouts, `terminateAfter`, close and
 * queue timeouts, the monitor's period) is validated and timed here. `setTimeout` takes at most
 * 2^31−1 ms: given more, Node, Bun and Deno fire after 1 ms instead (Node with a
 * TimeoutOverflowWarning), so a limit meant as "a month" or `Infinity` fired at once. Here any
 * positive number up to `Infinity` means what it says: longer delays are waited out in steps, and
 * `Infinity` starts no timer at all.
 */
import { InvalidOptionError } from '../errors.js';

/** The longest delay one `setTimeout` waits for as given. */
export const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

/** A started timer; `cancel()` stops it (it is harmless after the timer fired). */
export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /** Whether the pending timer keeps the process alive (default true, as `setTimeout`). */
  keepsProcessAlive?: boolean;
  /** Fire every `ms` until cancelled, instead of once. */
  repeat?: boolean;
}

const NEVER: Timer = { cancel() {} };

/**
 * Calls `fire` once `ms` milliseconds have passed (or every `ms` with `repeat`). `Infinity` never
 * fires.
 */
export function startTimer(ms: number, fire: () => void, options: TimerOptions = {}): Timer {
  if (ms === Infinity) return NEVER;
  const { keepsProcessAlive = true, repeat = false } = options;
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const arm = (left: number): void => {
    const step = Math.min(left, LONGEST_TIMEOUT_MS);
    handle = setTimeout(() => {
      if (left > step) return arm(left - step);
      fire();
      if (repeat && !cancelled) arm(ms);
    }, step);
    if (!keepsProcessAlive) handle.unref();
  };
  arm(ms);
  return {
    cancel() {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    },
  };
}

/** A limit or period given in milliseconds: a positive number, `Infinity` meaning none. */
export function positiveMilliseconds(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new InvalidOptionError(option, `expected a positive number of milliseconds (Infinity for no limit), got ${describe(value)}`);
  }
  return value;
}

/** A limit in milliseconds where 0 is meaningful (at once): 0 or more, `Infinity` meaning none. */
export function millisecondsOrZero(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new InvalidOptionError(option, `expected a number of milliseconds of 0 or more (Infinity for no limit), got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
