/**
 * The identity of the worker thread a task runs on, reachable from task code through
 * `viscose/worker`. It lives on `globalThis` under a registered symbol so that a task module that
 * resolves its own copy of the package still sees the runtime that loaded it.
 */

export interface WorkerIdentity {
  readonly index: number;
  readonly name: string;
  readonly numThreads: number;
}

const KEY = Symbol.for('viscose.worker.identity');

type WithIdentity = typeof globalThis & { [KEY]?: WorkerIdentity };

export function setWorkerIdentity(identity: WorkerIdentity): void {
  (globalThis as WithIdentity)[KEY] = identity;
}

export function workerIdentity(): WorkerIdentity | undefined {
  return (globalThis as WithIdentity)[KEY];
}
