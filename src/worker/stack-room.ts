/**
 * Whether the running thread's stack has room left for another task: the guard that keeps
 * work-while-waiting from stacking stolen tasks until the stack overflows.
 *
 * JavaScript cannot read the stack pointer, so this descends PROBE_FRAMES frames and sees whether
 * V8 throws its RangeError on the way. At about 100 bytes a frame that is roughly 100 KB: room for
 * the scheduler's own work with a margin, and for a task of modest depth. The probe costs a few
 * microseconds, so it is taken only where nested waits pile up (see WorkerThread.waitUntil).
 */
const PROBE_FRAMES = 1000;

export function stackHasRoom(): boolean {
  try {
    return descend(PROBE_FRAMES, 1, 2, 3, 4) !== 0;
  } catch {
    return false;
  }
}

/** Recursion that neither the interpreter nor TurboFan can shorten: every frame adds to the next. */
function descend(frames: number, a: number, b: number, c: number, d: number): number {
  return frames <= 0 ? a + b + c + d : descend(frames - 1, b, c, d, a) + 1;
}
