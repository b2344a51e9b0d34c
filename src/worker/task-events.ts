/**
 * `emit(event, payload)` of `viscose/worker`: events a running task sends to the `onEvent`
 * listener of the main-thread call it works for (its root call: the call whose task forked it, or
 * the call itself), over this worker's event port (docs/internals/task-events.md).
 *
 * Nothing is posted unless the root call has a listener: its slot's EVENTS flag says so, and every
 * task forked for it names that slot and its generation (ROOT, ROOT_GENERATION), wherever it runs.
 * An event is not posted either once the root call is over (settled, timed out, aborted), nor when
 * this worker already has MAX_UNDELIVERED_EVENTS events the main thread has not taken off its port
 * (EVENTS_UNDELIVERED): `emit` then returns false and the event is dropped. After posting, it rings
 * the main thread's doorbell if that parked: the main thread reads the ports when it looks for
 * completions (pool/task-events.ts).
 *
 * The synchronous code of a task finds its root call through the running-slot stack. The awaits of
 * an asynchronous task run with an empty stack, so a call that has a listener runs its task inside
 * an AsyncLocalStorage context that carries the root call's identity to its continuations.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MessagePort } from 'node:worker_threads';
import { Destination } from '../codec/passed-buffers.js';
import type { PayloadCodec } from '../codec/payload.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { TaskEventMessage } from '../control/protocol.js';
import { SlotField, SlotFlag, SlotState, type SlotTable, generationOf, stateOf } from '../shm/slot.js';
import type { RunningTasks } from './running-tasks.js';

/** Events a worker may have on its port that the main thread has not taken yet; beyond, `emit` drops. */
export const MAX_UNDELIVERED_EVENTS = 1024;

/** The root call an asynchronous task's continuations work for. */
interface RootCall {
  readonly slot: number;
  readonly generation: number;
  /** The shared-buffer ids its task decoded (codec/shared-buffers.ts), for its payloads. */
  readonly ids: Set<number> | undefined;
}

export class TaskEvents {
  private readonly roots = new AsyncLocalStorage<RootCall | undefined>();
  /**
   * Whether a listened call's task ever ran here: until then no context naming a call can be
   * current, and a task needs none, without asking the AsyncLocalStorage on every task.
   */
  private rootsEntered = false;

  constructor(
    private readonly words: Int32Array,
    private readonly slots: SlotTable,
    private readonly codec: PayloadCodec,
    private readonly running: RunningTasks,
    /** The main thread reads what is posted here (pool/task-events.ts). */
    private readonly port: MessagePort,
    /** Index in `words` of this worker's EVENTS_UNDELIVERED. */
    private readonly undelivered: number,
    /** Wakes the main thread if it parked waiting for completions: it reads the ports then too. */
    private readonly wakeMain: () => void,
  ) {}

  /**
   * Whether the task of main-thread slot `slot` must run through `runTask`: its call listens, or
   * another call's context is current here (this thread's loop was resumed from a callback that
   * call's task registered: its timer, the settling of its promise).
   */
  needsContext(slot: number): boolean {
    if ((this.words[this.slots.word(slot, SlotField.FLAGS)] & SlotFlag.EVENTS) !== 0) return true;
    return this.rootsEntered && this.roots.getStore() !== undefined;
  }

  /**
   * Runs the task of main-thread slot `slot` (its arguments decoded) in a context of its own: one
   * that names its call when that call has a listener, so that its continuations after an await
   * still can emit; none otherwise, so that they never emit for the call whose context was current.
   */
  runTask(slot: number, run: () => void): void {
    if ((this.words[this.slots.word(slot, SlotField.FLAGS)] & SlotFlag.EVENTS) === 0) {
      // Not `exit`: Deno's gives the continuations the outer context back.
      this.roots.run(undefined, run);
      return;
    }
    this.rootsEntered = true;
    const generation = generationOf(Atomics.load(this.words, this.slots.word(slot, SlotField.STATE)));
    this.roots.run({ slot, generation, ids: sharedBuffers.runningTaskIds }, run);
  }

  /**
   * The root call of work forked now by code outside any task on this thread (an asynchronous
   * task's continuation), as [slot, generation]; undefined when none listens for events.
   */
  readonly rootOutsideTasks = (): readonly [number, number] | undefined => {
    const root = this.roots.getStore();
    return root === undefined ? undefined : [root.slot, root.generation];
  };

  readonly emit = (event: string, payload?: unknown): boolean => {
    if (typeof event !== 'string') throw new TypeError(`emit(event, payload): event must be a string, got ${typeof event}`);
    const current = this.running.current;
    let root: number;
    let generation: number;
    let ids: Set<number> | undefined;
    if (current >= 0) {
      root = this.words[this.slots.word(current, SlotField.ROOT)];
      generation = this.words[this.slots.word(current, SlotField.ROOT_GENERATION)];
      ids = sharedBuffers.runningTaskIds;
    } else {
      const call = this.roots.getStore();
      if (call === undefined) return false;
      ({ slot: root, generation, ids } = call);
    }
    if (!this.listened(root, generation)) return false;
    if (Atomics.add(this.words, this.undelivered, 1) >= MAX_UNDELIVERED_EVENTS) {
      Atomics.sub(this.words, this.undelivered, 1);
      return false;
    }
    let message: TaskEventMessage;
    try {
      message = this.encode(root, generation, event, payload, ids);
    } catch (error) {
      Atomics.sub(this.words, this.undelivered, 1);
      throw error;
    }
    this.port.postMessage(message, message[4] === undefined ? [] : [message[4].buffer as ArrayBuffer]);
    this.wakeMain();
    return true;
  };

  /** Whether root call `slot` of `generation` is running, listened to, and not given up on. */
  private listened(slot: number, generation: number): boolean {
    // The flags first: most calls have no listener.
    const flags = Atomics.load(this.words, this.slots.word(slot, SlotField.FLAGS));
    if ((flags & (SlotFlag.EVENTS | SlotFlag.CANCEL_REQUESTED)) !== SlotFlag.EVENTS) return false;
    const state = Atomics.load(this.words, this.slots.word(slot, SlotField.STATE));
    return stateOf(state) === SlotState.RUNNING && generationOf(state) === generation;
  }

  /**
   * The message for an event: the payload as a task's result is encoded (EncodeError naming what
   * cannot be sent), scalars as they are, anything else as msgpack bytes of its own. Buffers the
   * payload passes go to the main thread's buffer port first, as a result's do.
   */
  private encode(root: number, generation: number, event: string, payload: unknown, ids: Set<number> | undefined): TaskEventMessage {
    const outer = sharedBuffers.beginTask(ids);
    try {
      return sharedBuffers.passed.encodingFor(Destination.MAIN_THREAD, () => {
        const encoded = this.codec.encodeValue(payload, 'payload');
        sharedBuffers.passed.send(Destination.MAIN_THREAD);
        if (encoded.bytes === undefined) return [root, generation, event, encoded.scalars![0], undefined, 0];
        const bytes = encoded.bytes.slice(encoded.start, encoded.start + encoded.length);
        return [root, generation, event, undefined, bytes, encoded.kind];
      });
    } finally {
      sharedBuffers.endTask(outer);
    }
  }
}
