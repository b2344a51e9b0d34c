/**
 * Whether `Worker.terminate()` stops the thread before the worker's 'exit' event. The pool
 * repairs and reuses what a worker held once it has exited, which is safe only if the thread no
 * longer touches shared memory. Node and Bun stop the thread first. Deno 2 (2.9.6) fires 'exit'
 * and resolves `terminate()` at once, yet a thread that is running JavaScript goes on running it:
 * a terminated worker's loop was measured still counting 3 s later, and the pool's fault-injection
 * test, which terminates workers mid-task, got other calls' results there. (A worker that ends
 * itself, by `process.exit()` or an uncaught error, stops at once on every runtime.)
 */
export const TERMINATE_STOPS_THREAD = !('Deno' in globalThis);

/**
 * Why a feature that terminates one worker and reuses its slots (`restartWorker`,
 * `terminateAfter`) is refused on this runtime, or undefined where it is available.
 */
export function terminationUnavailable(feature: string): string | undefined {
  if (TERMINATE_STOPS_THREAD) return undefined;
  return (
    `${feature} is not available on Deno: its Worker.terminate() does not stop a thread that is running JavaScript, ` +
    'so what that worker held could not be reused safely'
  );
}
