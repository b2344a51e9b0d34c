/**
 * The pool's worker threads: starting them, asking them over the control plane, and replacing one
 * that exits while the pool runs. A worker that exits is recovered (crash-recovery.ts settles what
 * it held), the others are told its passed buffers are gone, and a new worker takes its index —
 * unless it died while starting: replacing that one would only start a loop of workers dying at
 * birth, so the pool goes on with fewer workers and fails what is pending once none is left.
 */
import type { Remote } from 'comlink';
import type { MessageCounts } from '../control/endpoint.js';
import type { StartReport, WorkerControl } from '../control/protocol.js';
import { InvalidOptionError, PoolClosedError, ThreadPoolError, WorkerCrashedError, messageOf } from '../errors.js';
import { Header, PoolState } from '../shm/layout.js';
import type { DataPlane } from './data-plane.js';
import { Growth } from './growth.js';
import type { Lifecycle } from './lifecycle.js';
import type { WorkerCreated, WorkerExitReason, WorkerExited } from './pool-events.js';
import { terminationUnavailable } from './termination.js';
import { type WorkerExit, type WorkerHost, describeExit } from './worker-host.js';

/** What the set asks of its pool. */
export interface WorkerSetOwner {
  /** Whether a worker's exit is news: not while the pool stops its workers on purpose. */
  recovers(): boolean;
  /** Tells the user of a failure nobody awaits (the pool's `onError`). */
  report(error: unknown): void;
  /** Calls may have settled: the pool checks whether it drained. */
  settled(): void;
  /** Every worker is gone and none could be replaced: the pool fails with `failure`. */
  allGone(failure: ThreadPoolError): void;
  /** The shared buffers a new worker must know from the start. */
  knownBuffers(): [number, SharedArrayBuffer][];
  /** A worker takes work: each first worker once watched, each replacement or added worker once started. */
  workerStarted(worker: WorkerCreated): void;
  /** A worker `workerStarted` announced is gone, what it held settled (its `workerExit`). */
  workerExited(worker: WorkerExited): void;
}

export class WorkerSet {
  /** Control messages of the workers that exited, so that the totals never go back. */
  private readonly retiredMessages: MessageCounts = { sent: 0, received: 0 };
  private owner: WorkerSetOwner | undefined;
  /** Workers announced to the owner and not yet gone, with their thread ids (-1 once exited). */
  private readonly announced = new Map<WorkerHost, number>();
  /** Why the pool terminated a worker on purpose; a worker missing here ended on its own. */
  private readonly stopReasons = new WeakMap<WorkerHost, WorkerExitReason>();
  /** Starts more workers while work waits, in a pool with room for more than it started. */
  private growth: Growth | undefined;

  private constructor(
    private readonly plane: DataPlane,
    /** By index; an elastic pool has none at the indices it has not started or whose worker retired. */
    private readonly hosts: (WorkerHost | undefined)[],
  ) {}

  /**
   * Starts `threads` workers, each knowing the ones started before it, and resolves with their
   * start report once all are ready. Throws if one cannot start or they disagree on the module's
   * exports; the workers are then terminated.
   */
  static async start(plane: DataPlane, threads: number, moduleUrl: string): Promise<{ workers: WorkerSet; report: StartReport }> {
    const hosts: WorkerHost[] = [];
    try {
      for (let index = 0; index < threads; index++) hosts.push(plane.spawn(index));
      const reports = await Promise.all(hosts.map((host, index) => plane.start(host, [], hosts.slice(0, index))));
      const report = reports[0];
      if (report.tasks.length === 0) {
        throw new ThreadPoolError(`the task module ${moduleUrl} exports no function: there is no task to run`);
      }
      for (let i = 1; i < reports.length; i++) {
        if (reports[i].tasks.join('\0') !== report.tasks.join('\0')) {
          throw new ThreadPoolError(
            `workers disagree on the exports of ${moduleUrl}: ${hosts[0].name} sees [${report.tasks}], ${hosts[i].name} sees [${reports[i].tasks}]`,
          );
        }
      }
      return { workers: new WorkerSet(plane, hosts), report };
    } catch (error) {
      await Promise.allSettled(hosts.map((host) => host.terminate()));
      for (const host of hosts) host.closeBufferPort();
      throw error;
    }
  }

  /**
   * From now on, a worker that exits is recovered and replaced for `owner`; an elastic pool grows
   * while work waits.
   */
  watch(owner: WorkerSetOwner): void {
    this.owner = owner;
    for (const host of this.all) {
      this.watchExit(host);
      this.announce(host);
    }
    if (this.hosts.length < this.plane.layout.threads) {
      const { plane } = this;
      this.growth = new Growth({
        hasRoom: () => this.size < plane.layout.threads && owner.recovers(),
        look: () => plane.look(),
        busy: () => plane.dispatcher.outstanding > 0,
        startWorker: () => this.grow(),
      });
      this.plane.onSubmitted = this.growth.check;
    }
  }

  /** The current worker of each index that has one, by index. */
  get all(): WorkerHost[] {
    return this.hosts.filter((host) => host !== undefined);
  }

  /** How many indices have a worker (`all.length`, without building the list). */
  private get size(): number {
    let size = 0;
    for (const host of this.hosts) if (host !== undefined) size++;
    return size;
  }

  /** Control-plane messages exchanged with every worker the pool has had. */
  get controlMessages(): MessageCounts {
    let sent = this.retiredMessages.sent;
    let received = this.retiredMessages.received;
    for (const host of this.all) {
      sent += host.messages.sent;
      received += host.messages.received;
    }
    return { sent, received };
  }

  /** A control call to every worker, results by index; a worker that retires meanwhile has none. */
  async ask<T>(ask: (control: Remote<WorkerControl>) => Promise<T>): Promise<T[]> {
    const answers = await Promise.all(
      this.all.map((host) =>
        host.call(ask).then(
          (value) => ({ value }),
          (error: unknown) => {
            if (this.plane.present(host.index)) throw error;
            return undefined;
          },
        ),
      ),
    );
    return answers.filter((answer) => answer !== undefined).map((answer) => answer.value);
  }

  /**
   * Terminates worker `index` as if it had crashed, without reporting its exit. Resolves with
   * whether it was replaced, once the replacement started.
   */
  async restart(index: number): Promise<boolean> {
    const host = this.hosts[index]!;
    host.retired = true;
    this.stopReasons.set(host, 'restarted');
    await host.terminate();
    await host.exited;
    // recover() has put the replacement in place by now: it runs, synchronously, in the reaction
    // watchExit registered on the same promise when the worker was spawned, before this await.
    const replacement = this.hosts[index];
    // Not replaced: the pool failed or stopped, or the worker retired just before.
    if (replacement === undefined || replacement === host) return false;
    await replacement.starting;
    return true;
  }

  /**
   * ThreadPool.restartWorker: checks `index` and that the pool (`life`) accepts work, then restarts
   * the worker; throws why it was not replaced (the pool failed or closed meanwhile).
   */
  async restartOnRequest(index: number, life: Lifecycle): Promise<void> {
    if (!Number.isInteger(index) || this.hosts[index] === undefined) {
      const given = typeof index === 'string' ? JSON.stringify(index) : String(index);
      throw new InvalidOptionError('index', `expected the integer index of a worker ${indicesOf(this.all)}, got ${given}`);
    }
    const unavailable = terminationUnavailable('restartWorker');
    if (unavailable !== undefined) throw new ThreadPoolError(unavailable);
    life.assertAccepting();
    const name = this.hosts[index]!.name;
    if (!(await this.restart(index))) {
      throw life.failure ?? (life.phase === 'running' ? new ThreadPoolError(`worker ${name} was not replaced`) : new PoolClosedError());
    }
  }

  /**
   * Terminates the worker of `index` now (a task past its `terminateAfter`, or aborted with
   * `terminateOnAbort`: `killed`); it is replaced.
   */
  retire(index: number, why: WorkerExitReason = 'killed'): void {
    const host = this.hosts[index];
    if (host === undefined) return;
    host.retired = true;
    this.stopReasons.set(host, why);
    void host.terminate();
  }

  /** Every call settled: the workers stop, run their exit handlers and end; returns what failed. */
  async stopAll(): Promise<unknown[]> {
    this.stopGrowing();
    Atomics.store(this.plane.views.words, Header.POOL_STATE, PoolState.STOPPING);
    this.plane.sleep.wakeAll();
    const failures: unknown[] = [];
    await Promise.all(
      this.all.map(async (host) => {
        try {
          await host.call((control) => control.shutdown());
        } catch (error) {
          // A worker that retired meanwhile ran its exit handler as it left.
          if (this.plane.present(host.index)) failures.push(error);
        }
        await host.terminate();
      }),
    );
    return failures;
  }

  /** Stops every worker at once. */
  terminateAll(): Promise<unknown> {
    this.stopGrowing();
    return Promise.allSettled(this.all.map((host) => host.terminate()));
  }

  /** The pool stopped: no buffer port is read any more. */
  closeBufferPorts(): void {
    for (const host of this.all) host.closeBufferPort();
  }

  /** One more worker, at the first free index (Growth checked there is room); resolves once it started. */
  private grow(): Promise<unknown> {
    const free = this.hosts.indexOf(undefined);
    const index = free < 0 ? this.hosts.length : free;
    this.plane.markPresent(index);
    return this.startAt(index).starting;
  }

  private stopGrowing(): void {
    this.plane.onSubmitted = undefined;
    this.growth?.stop();
  }

  /**
   * Spawns a worker at `index`, a replacement or one more, and starts it; `starting` settles once
   * it took work or failed to start. A failed start ends in its exit, which recover() gives up.
   */
  private startAt(index: number): WorkerHost {
    const host = this.plane.spawn(index);
    this.hosts[index] = host;
    this.watchExit(host);
    host.starting = this.plane.start(host, this.owner!.knownBuffers(), this.all).then(
      (report) => {
        this.announce(host);
        return report;
      },
      (error: unknown) => {
        // Its exit comes back to recover(), which replaces it only if its loop had started.
        host.startFailure = error;
        void host.terminate();
        throw error;
      },
    );
    host.starting.catch(() => {});
    return host;
  }

  private watchExit(host: WorkerHost): void {
    void host.exited.then((exit) => {
      if (this.owner?.recovers() === true) this.recover(host, exit);
      else this.farewell(host, 'closed', exit.code);
    });
  }

  private announce(host: WorkerHost): void {
    const threadId = host.worker.threadId;
    this.announced.set(host, threadId);
    this.owner?.workerStarted({ index: host.index, name: host.name, threadId });
  }

  private farewell(host: WorkerHost, why: WorkerExitReason, exitCode: number): void {
    const threadId = this.announced.get(host);
    if (threadId === undefined) return;
    this.announced.delete(host);
    this.owner?.workerExited({ index: host.index, name: host.name, threadId, why, exitCode });
  }

  private recover(host: WorkerHost, exit: WorkerExit): void {
    const owner = this.owner!;
    const crash = new WorkerCrashedError(host.name, describeExit(exit), { cause: exit.error, exitCode: exit.code });
    this.retiredMessages.sent += host.messages.sent;
    this.retiredMessages.received += host.messages.received;
    const abandoned = this.plane.recoverFrom(host.index, crash);
    host.closeBufferPort();
    // Buffers it passed can no longer be read: a task naming one fails instead of waiting for it.
    for (const other of this.all) other.postBuffers({ gone: host.bufferOrigin });
    // It marked its mailbox absent before it left (elastic-size.md): a retirement, not a crash.
    if (!this.plane.present(host.index)) {
      this.freeIndex(host, exit);
      return;
    }
    // Asked of shared memory: a worker can take a task and die of it before its start report arrives.
    if (!this.plane.loopStarted(host.index)) {
      const reason = host.startFailure === undefined ? describeExit(exit) : messageOf(host.startFailure);
      owner.report(
        new ThreadPoolError(`worker ${host.name} could not be restarted (${reason}); it is not replaced`, {
          cause: host.startFailure ?? crash,
        }),
      );
      // It no longer counts among the workers present, so that the others keep minThreads of them.
      this.plane.diedAtBirth();
      if (!this.all.some((candidate) => candidate.alive)) owner.allGone(new ThreadPoolError('every worker of the pool has died'));
      owner.settled();
      this.farewell(host, 'crashed', exit.code);
      return;
    }
    if (abandoned === 0 && !host.retired) owner.report(crash);
    owner.settled();
    this.farewell(host, this.stopReasons.get(host) ?? 'crashed', exit.code);
    this.startAt(host.index);
  }

  /**
   * An idle worker of an elastic pool retired (not to be confused with `retire`, which kills one):
   * its index is free for a later start.
   */
  private freeIndex(host: WorkerHost, exit: WorkerExit): void {
    const owner = this.owner!;
    this.hosts[host.index] = undefined;
    this.plane.vacate(host.index);
    if (exit.error !== undefined) {
      owner.report(new ThreadPoolError(`worker ${host.name} retired, but its exitHandler failed`, { cause: exit.error }));
    }
    owner.settled();
    this.farewell(host, 'retired', exit.code);
    // Work may have arrived while it left.
    this.growth?.check();
  }
}

/** The indices of `hosts` in words: "from 0 to n − 1" when they have no gap. */
function indicesOf(hosts: readonly WorkerHost[]): string {
  const indices = hosts.map((host) => host.index);
  if (indices.every((index, k) => index === k)) return `from 0 to ${indices.length - 1}`;
  return `among ${indices.join(', ')}`;
}
