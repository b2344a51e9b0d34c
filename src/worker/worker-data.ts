/** The pool's `workerData` option, as the worker entry receives it in its boot record. */

/**
 * The pool's `workerData` option: this worker's own copy, made with the structured clone algorithm
 * when the worker started. It is set before the task module is imported, so the module's top level
 * can read it. `undefined` on the main thread, and in a pool created without the option.
 *
 * @example
 * ```ts
 * import { workerData } from 'viscose/worker';
 * const { model } = workerData as { model: string };
 * ```
 */
export let workerData: unknown;

/** Called once by the worker entry, before anything of the application is imported. */
export function setWorkerData(data: unknown): void {
  workerData = data;
}
