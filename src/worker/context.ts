/**
 * What task code reaches through `viscose/worker`: the identity of the worker thread it runs on and
 * the fork-join operations of its worker. Both live on `globalThis` under registered symbols, so
 * that a task module that resolves its own copy of the package still sees the runtime that loaded
 * it.
 */
import type { ForkJoinOperations } from './fork-join.js';

export interface WorkerIdentity {
  readonly index: number;
  readonly name: string;
  readonly numThreads: number;
}

const IDENTITY = Symbol.for('viscose.worker.identity');
const FORK_JOIN = Symbol.for('viscose.worker.fork-join');
const CANCELLATION = Symbol.for('viscose.worker.cancellation');
const EMIT = Symbol.for('viscose.worker.emit');

/** How task code learns that its caller aborted it (worker/cancellation.ts). */
export interface TaskCancellation {
  isCancelled(): boolean;
  signal(): AbortSignal;
}

/** `emit` of the thread's task events (worker/task-events.ts). */
export type EmitEvent = (event: string, payload?: unknown) => boolean;

type WithContext = typeof globalThis & {
  [IDENTITY]?: WorkerIdentity;
  [FORK_JOIN]?: ForkJoinOperations;
  [CANCELLATION]?: TaskCancellation;
  [EMIT]?: EmitEvent;
};

export function setTaskEvents(emit: EmitEvent): void {
  (globalThis as WithContext)[EMIT] = emit;
}

/** The thread's `emit`, or undefined outside a worker. */
export const taskEvents = onceFound<EmitEvent>(EMIT);

export function setCancellation(cancellation: TaskCancellation): void {
  (globalThis as WithContext)[CANCELLATION] = cancellation;
}

/** The thread's cancellation, or undefined outside a worker. */
export function cancellation(): TaskCancellation | undefined {
  return (globalThis as WithContext)[CANCELLATION];
}

export function setWorkerIdentity(identity: WorkerIdentity): void {
  (globalThis as WithContext)[IDENTITY] = identity;
}

export function workerIdentity(): WorkerIdentity | undefined {
  return (globalThis as WithContext)[IDENTITY];
}

export function setForkJoin(forkJoin: ForkJoinOperations): void {
  (globalThis as WithContext)[FORK_JOIN] = forkJoin;
}

/** The thread's fork-join operations, or undefined outside a worker. */
export const forkJoin = onceFound<ForkJoinOperations>(FORK_JOIN);

/**
 * Reads what a worker sets under `key` once, before any task runs (the main thread never does),
 * keeping this module's copy once found: a global lookup costs a hash probe, and these are read on
 * hot paths (every `join`, every `emit`).
 */
function onceFound<T>(key: typeof FORK_JOIN | typeof EMIT): () => T | undefined {
  let found: T | undefined;
  return () => {
    found ??= (globalThis as WithContext)[key] as T | undefined;
    return found;
  };
}
