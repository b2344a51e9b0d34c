/**
 * What task code reaches through `viscose/worker`: the identity of the worker thread it runs on and
 * the fork-join operations of its runtime. Both live on `globalThis` under registered symbols, so
 * that a task module that resolves its own copy of the package still sees the runtime that loaded
 * it.
 */
import type { ForkJoin } from './fork.js';

export interface WorkerIdentity {
  readonly index: number;
  readonly name: string;
  readonly numThreads: number;
}

const IDENTITY = Symbol.for('viscose.worker.identity');
const FORK_JOIN = Symbol.for('viscose.worker.fork-join');
const CANCELLED = Symbol.for('viscose.worker.cancelled');

type WithContext = typeof globalThis & { [IDENTITY]?: WorkerIdentity; [FORK_JOIN]?: ForkJoin; [CANCELLED]?: () => boolean };

/** Sets how task code asks whether its caller aborted it. */
export function setCancellationCheck(check: () => boolean): void {
  (globalThis as WithContext)[CANCELLED] = check;
}

/** Whether the caller of the running task aborted it; false outside a worker. */
export function cancellationRequested(): boolean {
  return (globalThis as WithContext)[CANCELLED]?.() ?? false;
}

export function setWorkerIdentity(identity: WorkerIdentity): void {
  (globalThis as WithContext)[IDENTITY] = identity;
}

export function workerIdentity(): WorkerIdentity | undefined {
  return (globalThis as WithContext)[IDENTITY];
}

export function setForkJoin(forkJoin: ForkJoin): void {
  (globalThis as WithContext)[FORK_JOIN] = forkJoin;
}

/** This module's copy of the thread's operations, once found: a global lookup costs a hash probe. */
let cachedForkJoin: ForkJoin | undefined;

export function forkJoin(): ForkJoin | undefined {
  // A worker sets its operations once, before any task runs; the main thread never does.
  return (cachedForkJoin ??= (globalThis as WithContext)[FORK_JOIN]);
}
