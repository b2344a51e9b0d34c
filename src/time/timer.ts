/**
 * Every time limit and period a caller gives (call and task timeouts, `terminateAfter`, close and
 * queue timeouts, the monitor's period) is timed here; options/validators.ts checks them.
 * `setTimeout` takes at most 2^31−1 ms: given more, Node, Bun and Deno fire after 1 ms instead (Node with a
 * TimeoutOverflowWarning), so a limit meant as "a month" or `Infinity` fired at once. Here any
 * positive number up to `Infinity` means what it says: longer delays are waited out in steps, and
 * `Infinity` starts no timer at all.
 */

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
