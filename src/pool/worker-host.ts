/**
 * One worker thread as the main thread sees it: the `Worker`, its Comlink control proxy and its
 * exit. Comlink calls never settle when the worker dies, so every control call is raced against the
 * worker's exit and rejects with WorkerCrashedError instead of hanging.
 */
import {
  MessageChannel,
  type MessagePort,
  type ResourceLimits,
  type SHARE_ENV,
  type Worker,
  receiveMessageOnPort,
} from 'node:worker_threads';
import { type Remote, wrap } from 'comlink';
import { type MessageCounts, countingEndpoint } from '../control/endpoint.js';
import type { BufferMessage, PassMessage, WorkerBootData, WorkerControl } from '../control/protocol.js';
import type { PullAnswer } from '../codec/held-transfers.js';
import type { Movable } from '../codec/passed-buffers.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { WorkerCrashedError } from '../errors.js';
import { startWorker, workerExecArgv } from './exec-argv.js';
import type { KeepAlive } from './keep-alive.js';
import { openPullPort } from './pulls.js';

export interface WorkerExit {
  code: number;
  /** The error the thread died of (uncaught exception, out of memory), if any. */
  error: unknown;
}

export interface HostOptions {
  entry: URL;
  index: number;
  name: string;
  resourceLimits: ResourceLimits | undefined;
  execArgv: string[] | undefined;
  env: NodeJS.Dict<string> | typeof SHARE_ENV | undefined;
  /** The pool's `workerData` option, cloned into the worker's boot record. */
  workerData: unknown;
  keepAlive: KeepAlive;
  /**
   * Tells the worker how many control messages were posted to it so far, and wakes it: it returns to
   * its event loop to read them.
   */
  nudge: (index: number, posted: number) => void;
  /**
   * Tells the worker that one more message was posted to its buffer port; `wake` when it must read
   * it soon (releases, new workers), not only once it meets an id it does not know (announcements).
   */
  bufferPosted: (index: number, wake: boolean) => void;
}

/** Buffer-port origins are unique in the process: every pool's workers send to one registry. */
let nextBufferOrigin = 1;

export class WorkerHost {
  readonly index: number;
  readonly name: string;
  readonly worker: Worker;
  readonly messages: MessageCounts = { sent: 0, received: 0 };
  /** Settles when the thread has exited, for whatever reason. */
  readonly exited: Promise<WorkerExit>;
  private readonly control: Remote<WorkerControl>;
  private readonly exitRejection: Promise<never>;
  private hasExited = false;
  /** Why starting it failed, when it did (it is then terminated). */
  startFailure: unknown;
  /**
   * Terminated by the pool on purpose (a task past its timeout, `restartWorker`): its exit is no
   * surprise to report.
   */
  retired = false;
  /** The main thread's end of the worker's buffer port, once it is being started. */
  private bufferPort: MessagePort | undefined;
  /** Where the worker asks for the values held for the calls it takes (pulls.ts). */
  private pullPort: MessagePort | undefined;
  /** What the worker's buffer port is known by (codec/shared-buffers.ts), once there is one. */
  bufferOrigin = 0;
  /** Settles once a replacement worker has started (or failed to). */
  starting: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: HostOptions) {
    this.index = options.index;
    this.name = options.name;
    const boot: WorkerBootData = { index: options.index, name: options.name, data: options.workerData };
    this.worker = startWorker(
      options.entry,
      {
        name: options.name,
        workerData: boot,
        resourceLimits: options.resourceLimits,
        execArgv: workerExecArgv(options.execArgv),
        env: options.env,
      },
      options.execArgv === undefined,
    );
    let lastError: unknown;
    this.worker.on('error', (error) => {
      lastError = error;
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.hasExited = true;
        resolve({ code, error: lastError });
      });
    });
    this.exitRejection = this.exited.then((exit) => {
      throw new WorkerCrashedError(this.name, describeExit(exit), { cause: exit.error, exitCode: exit.code });
    });
    this.exitRejection.catch(() => {});
    this.control = wrap<WorkerControl>(countingEndpoint(this.worker, this.messages));
    // An idle pool must not keep the process alive; KeepAlive holds it open while work is pending.
    // This comes after Comlink's 'message' listener: adding that listener refs the worker's port.
    this.worker.unref();
  }

  get alive(): boolean {
    return !this.hasExited;
  }

  /** A control call that rejects with WorkerCrashedError if the worker exits first. */
  call<T>(invoke: (control: Remote<WorkerControl>) => Promise<T>): Promise<T> {
    if (this.hasExited) return this.exitRejection;
    const pending = invoke(this.control);
    this.options.nudge(this.index, this.messages.sent);
    return this.options.keepAlive.during(Promise.race([pending, this.exitRejection]));
  }

  /**
   * A new buffer port for the worker being started; the other end goes to it with its config. The
   * buffers the worker passes to the main thread arrive on it, read when a result names one.
   */
  openBufferPort(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.bufferPort = port1;
    this.bufferOrigin = nextBufferOrigin++;
    sharedBuffers.passed.addSource(this.bufferOrigin, { receiveNext: () => this.receivePassed(port1) });
    this.pullPort = openPullPort(port1, (answer, moved) => this.postBuffers(answer, moved));
    return port2;
  }

  /** Whether the worker has a buffer port and has not exited: it can be sent buffers and peers. */
  get readsBuffers(): boolean {
    return this.bufferPort !== undefined && !this.hasExited;
  }

  /**
   * Once no result of this worker is left to decode (it exited and crash recovery settled what it
   * finished, or the pool stopped): what it sent and nobody decoded is dropped.
   */
  closeBufferPort(): void {
    if (this.bufferPort === undefined) return;
    sharedBuffers.passed.removeSource(this.bufferOrigin);
    this.bufferPort.close();
    this.bufferPort = undefined;
    this.pullPort?.close();
    this.pullPort = undefined;
  }

  private receivePassed(port: MessagePort): boolean {
    const received = receiveMessageOnPort(port);
    if (received === undefined) return false;
    sharedBuffers.passed.arrive(this.bufferOrigin, received.message as PassMessage);
    return true;
  }

  /** Posts a BufferMessage or a pull's answer (in order); `transfer` carries a peer's port or what moves. */
  postBuffers(message: BufferMessage | PullAnswer, transfer: (MessagePort | Movable)[] = []): void {
    if (!this.readsBuffers) return;
    this.bufferPort!.postMessage(message, transfer);
    this.options.bufferPosted(this.index, !('share' in message));
  }

  async terminate(): Promise<void> {
    if (this.hasExited) return;
    await this.worker.terminate();
  }
}

export function describeExit(exit: WorkerExit): string {
  if (exit.error instanceof Error) return `${exit.error.name}: ${exit.error.message}`;
  if (exit.error !== undefined) return `threw ${String(exit.error)}`;
  return `exited with code ${exit.code}`;
}
