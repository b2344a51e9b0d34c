/**
 * The control plane between the main thread and each worker: start-up (handing over the shared
 * memory and the layout), ping, a stats snapshot and shutdown. It runs over Comlink and is never
 * used per task.
 */
import type { MessagePort } from 'node:worker_threads';
import type { QueueBackend } from '../queue/work-queue.js';
import type { Layout } from '../shm/layout.js';

export interface WorkerConfig {
  index: number;
  name: string;
  /** The fewest workers an elastic pool keeps; a retiring worker leaves only above it. */
  minThreads: number;
  /** How long this worker may stay idle before it retires (`Infinity`: never, a fixed-size pool). */
  idleTimeoutMs: number;
  layout: Layout;
  shared: SharedArrayBuffer;
  /** Every thread's payload arena: index 0 is the main thread's, 1 + i worker i's. */
  arenas: SharedArrayBuffer[];
  /** Modules imported before the task module (URLs or package specifiers). */
  preload: string[];
  /** URL of the task module. */
  moduleUrl: string;
  /** Export run on the worker when it starts, before it takes work. */
  startHandler: string | undefined;
  /** Export run on the worker when the pool closes. */
  exitHandler: string | undefined;
  spinMicros: number;
  /** Which deque implementation the pool uses. */
  queue: QueueBackend;
  /** The CPU this worker pins itself to, when the pool pins threads. */
  pinCpu: number | undefined;
  maxPayloadBytes: number;
  /** How many asynchronous tasks a worker keeps in flight at once. */
  asyncTasksPerWorker: number;
  /** Nested waits beyond which a waiting worker takes no work from others. */
  maxNestedWaits: number;
  /** The shared buffers this pool's workers know, by id (see codec/shared-buffers.ts). */
  sharedBuffers: [number, SharedArrayBuffer][];
  /** The port later announcements and releases of shared buffers arrive on (BufferMessage). */
  bufferPort: MessagePort;
  /** What this worker passes buffers by, unique in its process (codec/passed-buffers.ts). */
  bufferOrigin: number;
  /** A port to each worker started before this one, for the buffers they pass each other. */
  peers: PeerPort[];
  /** The port this worker's tasks post their events on (TaskEventMessage). */
  eventPort: MessagePort;
}

/** One end of a channel between two workers, held by one of them: its peer's origin, index, name. */
export interface PeerPort {
  origin: number;
  index: number;
  name: string;
  port: MessagePort;
}

/**
 * What the main thread posts on a worker's buffer port, read synchronously, never by event
 * (worker/buffer-inbox.ts): shared buffers to know by id, ids to forget, a port to a worker
 * started later, or the origin of a worker that exited.
 */
export type BufferMessage = { share: [number, SharedArrayBuffer][] } | { forget: number[] } | { peer: PeerPort } | { gone: number };

/**
 * What a worker posts to a thread that will decode a payload naming buffers it passes by itself
 * (codec/passed-buffers.ts): the buffers by serial, or serials lent earlier to drop.
 */
export type PassMessage = { pass: [number, SharedArrayBuffer][]; once: boolean } | { drop: number[] };

/**
 * An event a task emitted, on its worker's event port (worker/task-events.ts): the root call's slot
 * and generation, the event's name, and its payload: a scalar as it is (`bytes` undefined), or
 * msgpack `bytes` of PayloadKind `kind`.
 */
export type TaskEventMessage = [
  root: number,
  generation: number,
  event: string,
  scalar: unknown,
  bytes: Uint8Array | undefined,
  kind: number,
];

export interface StartReport {
  /** Names of the function exports of the task module, sorted; a task's id is its position. */
  tasks: string[];
}

export interface WorkerSnapshot {
  index: number;
  name: string;
  /** Tasks this worker ran to completion or failure. */
  tasksRun: number;
  /** Tasks it took from another worker's deque. */
  steals: number;
  /** Tasks it took from the injector (work submitted from the main thread). */
  injectorTakes: number;
  /** Times it parked for lack of work. */
  parks: number;
  /** The deepest nesting of waits (join, scope, broadcast running other work) it reached. */
  deepestWait: number;
  /** Asynchronous tasks started and not yet settled. */
  asyncInFlight: number;
  /** Parallel-iterator loops it compiled: one per pipeline shape it ran (an inline step's source is part of the shape). */
  loopsCompiled: number;
  heapUsedBytes: number;
}

export interface WorkerControl {
  init(config: WorkerConfig): Promise<StartReport>;
  ping(): number;
  snapshot(): WorkerSnapshot;
  /** Stops taking work, runs the exit handler, and lets the thread end. */
  shutdown(): Promise<void>;
}

/** Worker-data handed to `new Worker`, available before the control plane is up. */
export interface WorkerBootData {
  index: number;
  name: string;
  /** The pool's `workerData` option. */
  data: unknown;
}
