/**
 * The main thread's side of the data plane: it owns the slot table's free list (the backpressure
 * semaphore), stores encoded calls in slots, queues them (the injector, or one worker's mailbox for
 * a broadcast), wakes sleeping workers, and settles callers from the completion rings.
 *
 * Slot protocol, main-thread side (the worker side is in worker/executor.ts):
 *   FREE --(main: header + payload, then store QUEUED, then push the entry)--> QUEUED
 *   QUEUED --(worker: compare-exchange, owner recorded)--> RUNNING
 *   RUNNING --(worker: payload, then store DONE/FAILED, then push to its completion ring)--> DONE
 *   DONE/FAILED --(main: decode, release the arena block, store FREE with generation + 1)--> FREE
 *   QUEUED --(main, its caller aborted: compare-exchange, payload released)--> CANCELLED
 *   CANCELLED --(a worker that reads its queue entry: compare-exchange)--> RETURNED, pushed to its ring
 *   RETURNED --(main: store FREE with generation + 1)--> FREE
 *
 * A main-thread scope takes a slot as its record (worker/scope-records.ts): RECORD until the last
 * part of the scope finishes, then DONE or FAILED like a task, completed by whichever thread
 * finished that last part.
 */
import type { EncodedPayload, PayloadCodec } from '../codec/payload.js';
import type { WorkQueue } from '../queue/work-queue.js';
import type { CompletionRing } from '../queue/completion-ring.js';
import type { Mailbox } from '../queue/mailbox.js';
import { SlotField, SlotFlag, SlotState, type SlotTable, SlotTime, generationOf, ownerOf, stateOf } from '../shm/slot.js';
import { ThreadPoolError, messageOf } from '../errors.js';
import { NORMAL_LEVEL } from '../queue/priority.js';
import { sharedNow } from '../sync/clock.js';
import type { Sleep } from '../sync/sleep.js';
import type { Layout } from '../shm/layout.js';
import { CrashRecovery } from './crash-recovery.js';
import { MainRecords } from './main-records.js';
import type { CallRecorder } from './statistics.js';
import { FreeSlots } from './free-slots.js';
import { MailboxPosts } from './mailbox-posts.js';
import { SharedSlots } from './shared-slots.js';
import { SlotWaiters } from './slot-waiters.js';
import type { TaskEvents } from './task-events.js';
import type { PendingWork, Submission } from './work.js';
import { SlotWorks, isDropped } from './slot-works.js';
import { free, publishQueued, tryWithdraw } from '../shm/slot-protocol.js';

export class Dispatcher {
  /** The free slots; `full` once none is left. */
  readonly free: FreeSlots;
  /** Whoever waits for a slot; its `limit` is the pool's `maxQueue`. */
  readonly waiters: SlotWaiters;
  /** Whoever waits for each slot in use. */
  private readonly pending: SlotWorks;
  /** How many calls each slot counts for. */
  private readonly shared: SharedSlots;
  private readonly words: Int32Array;
  private readonly f64: Float64Array;
  private readonly posts: MailboxPosts;
  private inUse = 0;
  /** Completions consumed since the pool started. */
  completed = 0;
  /** Latest finishing time (shared clock) among the completions consumed. */
  lastFinishedAt = 0;

  /** Scope records, as the main thread keeps them. */
  private readonly records: MainRecords;
  private readonly crashRecovery: CrashRecovery;

  constructor(
    private readonly slots: SlotTable,
    layout: Layout,
    private readonly codec: PayloadCodec,
    private readonly injectors: WorkQueue[],
    mailboxes: Mailbox[],
    private readonly rings: CompletionRing[],
    private readonly sleep: Sleep,
    /** Called whenever work was handed to the workers. */
    private readonly onSubmit: () => void,
    /** Counts and times every call, when the pool keeps statistics. */
    readonly recorder: CallRecorder | undefined,
    /** Delivers the events of calls with a listener; drained before such a call settles. */
    private readonly events: TaskEvents,
  ) {
    this.words = slots.words;
    this.f64 = new Float64Array(slots.words.buffer as SharedArrayBuffer);
    this.pending = new SlotWorks(slots.mainSlots);
    this.shared = new SharedSlots(slots.mainSlots);
    this.posts = new MailboxPosts(mailboxes, sleep, (entry) => this.inject(entry, NORMAL_LEVEL));
    this.waiters = new SlotWaiters(recorder);
    const wake = (worker: number): void => {
      sleep.wake(worker);
    };
    this.records = new MainRecords(slots, layout, codec, (slot) => this.pending.at(slot) !== undefined, this.complete, wake);
    this.crashRecovery = new CrashRecovery(slots, layout, codec, this.records, wake, this.complete);
    this.free = new FreeSlots(slots.mainSlots);
  }

  /** Slots in use plus calls waiting for one, each call of a shared slot counted. */
  get outstanding(): number {
    return this.inUse + this.waiters.waiting + this.shared.extra;
  }

  /**
   * Submits an encoded call. The payload is consumed now (stored in a slot) or copied to wait for
   * a slot, so the caller may encode the next call right away.
   */
  submit(submission: Submission, payload: EncodedPayload, work: PendingWork): void {
    // Consume finished tasks first: a caller submitting a long burst in one synchronous loop
    // thus recycles slots as it goes, and the workers never run dry, nor park, while the event
    // loop is busy with the burst. Their listeners may make calls, encoding over `payload`.
    this.codec.hold(payload);
    this.drain();
    this.codec.letGo(payload);
    const calls = this.shared.accepted(submission);
    let accepted = 0;
    if (this.recorder !== undefined) {
      this.recorder.submitted += calls;
      accepted = sharedNow();
    }
    const slot = this.waiters.queued === 0 ? this.free.take() : undefined;
    if (slot === undefined) {
      const refusal = submission.readmitted === true ? undefined : this.waiters.refusal();
      if (refusal !== undefined) {
        const calls = this.shared.refused(submission);
        if (this.recorder !== undefined) this.recorder.failed += calls;
        work.abandon(refusal);
        return;
      }
      const copy = this.codec.detach(payload);
      this.waiters.addCall(work, submission.level, (granted) => this.publish(granted, submission, copy, work, accepted), calls);
      return;
    }
    this.publish(slot, submission, payload, work, accepted);
  }

  private publish(slot: number, submission: Submission, payload: EncodedPayload, work: PendingWork, accepted: number): void {
    try {
      this.codec.store(slot, payload);
    } catch (error) {
      // The arena had no room for the payload: nothing was queued.
      this.free.give(slot);
      const calls = this.shared.refused(submission);
      if (this.recorder !== undefined) this.recorder.failed += calls;
      work.abandon(error);
      return;
    }
    this.shared.stored(slot, submission);
    const words = this.words;
    const slots = this.slots;
    this.f64[slots.timeIndex(slot, SlotTime.ACCEPTED)] = accepted;
    // Until the worker that claims the task stamps its start: a run-time limit reads it.
    this.f64[slots.timeIndex(slot, SlotTime.STARTED)] = 0;
    words[slots.word(slot, SlotField.TASK)] = submission.task;
    words[slots.word(slot, SlotField.BATCH)] = submission.batch;
    words[slots.word(slot, SlotField.FLAGS)] = submission.onEvent === undefined ? submission.flags : submission.flags | SlotFlag.EVENTS;
    words[slots.word(slot, SlotField.SCOPE)] = submission.scope;
    words[slots.word(slot, SlotField.VISIBLE_SCOPE)] = submission.scope;
    words[slots.word(slot, SlotField.ROOT)] = slot;
    // Its generation does not change until the slot is freed: the call's identity for its events.
    const generation = generationOf(words[slots.word(slot, SlotField.STATE)]);
    words[slots.word(slot, SlotField.ROOT_GENERATION)] = generation;
    if (submission.onEvent !== undefined) this.events.listen(slot, generation, submission.onEvent);
    const stateIndex = slots.word(slot, SlotField.STATE);
    // This store publishes the header and payload written above to whichever worker claims the slot.
    const queued = publishQueued(words, stateIndex);
    this.pending.set(slot, work, submission.findable === true);
    this.inUse++;
    const entry = slots.entryFor(slot, queued);
    if (submission.target >= 0) this.posts.post(submission.target, entry);
    else this.inject(entry, submission.level);
    this.onSubmit();
  }

  /** Queues `entry` for any worker at priority `level`, and wakes a worker if that is worth it. */
  private inject(entry: number, level: number): void {
    const injector = this.injectors[level];
    injector.push(entry);
    this.sleep.newJobs(injector);
  }

  /** Takes a slot for a scope record, waiting for one if every slot is taken. */
  acquireSlot(): Promise<number> {
    const slot = this.waiters.queued === 0 ? this.free.take() : undefined;
    if (slot !== undefined) return Promise.resolve(slot);
    return this.waiters.addScope();
  }

  /** Makes `record` the record of a scope opened now (`fifo`: by scopeFifo), whose body is its first unfinished part. */
  openRecord(record: number, work: PendingWork, fifo: boolean): void {
    // Not a task: no times to record.
    this.f64[this.slots.timeIndex(record, SlotTime.ACCEPTED)] = 0;
    this.records.open(record, fifo);
    this.pending.set(record, work, false);
    this.inUse++;
    this.onSubmit();
  }

  /** One more part of a scope (a spawn), counted before its task is queued. */
  addRecordPart(record: number): void {
    this.records.addPart(record);
  }

  /** Claims the scope's first error for its body; returns whether the body was first. */
  claimRecordForBody(record: number): boolean {
    return this.records.claimForBody(record);
  }

  /**
   * The main thread's part of a scope finished, or one of its tasks was abandoned (with `error`):
   * counts it out, and completes the scope if it was the last part.
   */
  finishRecordPart(record: number, error?: { error: unknown; task: number }): void {
    if (this.pending.at(record) === undefined) return; // the pool was terminated
    if (error !== undefined) this.records.recordError(record, error.error, error.task);
    this.records.countOut(record);
  }

  /** Consumes every completion the workers published; returns how many. */
  drain(): number {
    this.posts.retry();
    let consumed = 0;
    for (let i = 0; i < this.rings.length; i++) consumed += this.rings[i].drain(this.complete);
    return consumed;
  }

  /** Whether a completion waits in some ring (a cheap look, for the watcher's short wait). */
  hasCompletions(): boolean {
    for (let i = 0; i < this.rings.length; i++) if (this.rings[i].hasEntries()) return true;
    return false;
  }

  /** Settles the caller of a finished main-thread slot and frees the slot. */
  readonly complete = (slot: number): void => {
    // terminate() abandoned every call and told its caller; the slots go away with the pool.
    if (this.pending.at(slot) === undefined) return;
    this.completed++;
    const stateWord = Atomics.load(this.words, this.slots.word(slot, SlotField.STATE));
    const state = stateOf(stateWord);
    if (state === SlotState.RETURNED) {
      // A withdrawn call's slot, returned by the worker that found its entry: nothing ran.
      this.freeSlot(slot);
      return;
    }
    const finished = this.f64[this.slots.timeIndex(slot, SlotTime.FINISHED)];
    if (finished > this.lastFinishedAt) this.lastFinishedAt = finished;
    let outcome: unknown;
    let decodeError: unknown;
    // A scope's task leaves no result: its slot still describes the arguments, already released.
    if ((this.words[this.slots.word(slot, SlotField.FLAGS)] & SlotFlag.DISCARD_RESULT) === 0) {
      try {
        outcome = this.codec.loadValue(slot);
      } catch (error) {
        // Every error a caller sees is a ViscoseError: this one names where it happened.
        const reason = messageOf(error);
        decodeError = new ThreadPoolError(`the outcome of a task could not be decoded on the main thread: ${reason}`, { cause: error });
      }
      this.codec.release(slot);
    }
    const work = this.pending.at(slot)!;
    // A cancelled call was counted when it was cancelled.
    if (this.recorder !== undefined && !isDropped(work)) this.record(slot, decodeError === undefined ? state : SlotState.FAILED, outcome);
    const runMs = finished - this.f64[this.slots.timeIndex(slot, SlotTime.STARTED)];
    const outcomeBytes = this.words[this.slots.word(slot, SlotField.LENGTH)];
    this.freeSlot(slot);
    if (decodeError !== undefined) work.abandon(decodeError);
    else work.settle(state, outcome, ownerOf(stateWord), runMs, outcomeBytes);
  };

  /**
   * Counts a finished slot (each call of a shared one, by its own outcome) and records its times,
   * unless it was not submitted as a call.
   */
  private record(slot: number, state: number, outcome: unknown): void {
    const recorder = this.recorder!;
    const slots = this.slots;
    const accepted = this.f64[slots.timeIndex(slot, SlotTime.ACCEPTED)];
    if (accepted === 0) return;
    const calls = this.shared.in(slot);
    const failed = this.shared.failedIn(slot, state, outcome);
    recorder.completed += calls - failed;
    recorder.failed += failed;
    const started = this.f64[slots.timeIndex(slot, SlotTime.STARTED)];
    recorder.finished(accepted, started, this.f64[slots.timeIndex(slot, SlotTime.FINISHED)], sharedNow(), calls);
  }

  /** Frees a slot (new generation) and hands it to the oldest waiter, if any. */
  private freeSlot(slot: number): void {
    // Before the caller hears of the outcome: the events its task emitted up to the end.
    this.events.stopListening(slot);
    this.shared.freed(slot);
    this.pending.clear(slot);
    this.inUse--;
    free(this.words, this.slots.word(slot, SlotField.STATE));
    this.handOn(slot);
  }

  /** Gives a free slot to the most urgent waiter, or back to the free list. */
  private handOn(slot: number): void {
    if (!this.waiters.grant(slot)) this.free.give(slot);
  }

  /**
   * Where `work` runs: its slot's state word and when a worker started it (shared clock; 0 for a
   * moment after the claim, until the worker stamps it), or undefined while it waits (for a slot,
   * or in the queue) and once it has finished.
   */
  running(work: PendingWork): { slot: number; stateWord: number; startedAt: number } | undefined {
    const slot = this.pending.find(work);
    if (slot < 0) return undefined;
    const stateWord = Atomics.load(this.words, this.slots.word(slot, SlotField.STATE));
    if (stateOf(stateWord) !== SlotState.RUNNING) return undefined;
    return { slot, stateWord, startedAt: this.f64[this.slots.timeIndex(slot, SlotTime.STARTED)] };
  }

  /** Whether `slot` is still in the state `stateWord` (the same task, still running). */
  stillRunning(slot: number, stateWord: number): boolean {
    return Atomics.load(this.words, this.slots.word(slot, SlotField.STATE)) === stateWord;
  }

  /**
   * Withdraws `work` because its caller aborted. A call still waiting for a slot, or queued in one
   * that no worker has claimed yet, will never run: its slot is taken back (QUEUED → CANCELLED by
   * compare-exchange, so a worker's claim and this cannot both win; the queue entry left behind is
   * stale once the slot's generation moves on). A call a worker is running gets its
   * CANCEL_REQUESTED flag raised and its outcome dropped, and `running` is told its state word.
   * Returns whether the call will not run.
   */
  cancel(work: PendingWork, running?: (stateWord: number) => void): boolean {
    if (this.waiters.cancel(work)) return true;
    const slot = this.pending.find(work);
    if (slot < 0) return false;
    if (this.recorder !== undefined) this.recorder.cancelled++;
    const stateIndex = this.slots.word(slot, SlotField.STATE);
    const stateWord = Atomics.load(this.words, stateIndex);
    this.pending.drop(slot);
    this.events.stopListening(slot);
    if (stateOf(stateWord) === SlotState.QUEUED) {
      if (tryWithdraw(this.words, stateIndex, stateWord) === stateWord) {
        // No worker can claim it now, so none reads the payload. The slot itself stays taken
        // until the worker that finds its queue entry returns it (one entry per slot in use keeps
        // the injector within its capacity).
        this.codec.release(slot);
        work.dropped?.();
        return true;
      }
    }
    Atomics.or(this.words, this.slots.word(slot, SlotField.FLAGS), SlotFlag.CANCEL_REQUESTED);
    // Read again: a worker may have claimed it since.
    const now = Atomics.load(this.words, stateIndex);
    if (stateOf(now) === SlotState.RUNNING) running?.(now);
    return false;
  }

  /**
   * After worker `worker` exited: settles what it finished (published or not), abandons with
   * `crash` what it was running, and finishes what it left half-done in the workers' regions and
   * scope records (crash-recovery.ts). Returns how many calls and forked tasks failed with `crash`.
   */
  recoverFrom(worker: number, crash: unknown): number {
    this.rings[worker].drain(this.complete);
    let abandoned = this.crashRecovery.recover(worker, crash);
    for (let slot = 0; slot < this.pending.size; slot++) {
      const work = this.pending.at(slot);
      if (work === undefined) continue;
      const stateWord = Atomics.load(this.words, this.slots.word(slot, SlotField.STATE));
      if (ownerOf(stateWord) !== worker) continue;
      const state = stateOf(stateWord);
      if (state === SlotState.DONE || state === SlotState.FAILED || state === SlotState.RETURNED) {
        // Finished (or a withdrawn call's slot taken back), but the worker died before (or while)
        // publishing it.
        this.complete(slot);
      } else if (state === SlotState.RUNNING) {
        this.codec.release(slot);
        const calls = this.shared.in(slot);
        this.freeSlot(slot);
        if (this.recorder !== undefined && !isDropped(work)) this.recorder.failed += calls;
        work.abandon(crash);
        if (!isDropped(work)) abandoned++;
      }
    }
    return abandoned;
  }

  /** Abandons everything: calls waiting for a slot and tasks in slots. For terminate(). */
  abandonAll(error: unknown): void {
    this.waiters.abandonAll(error);
    for (let slot = 0; slot < this.pending.size; slot++) {
      const work = this.pending.at(slot);
      if (work === undefined) continue;
      const calls = this.shared.in(slot);
      this.pending.clear(slot);
      this.events.stopListening(slot);
      this.inUse--;
      if (this.recorder !== undefined && !isDropped(work) && this.f64[this.slots.timeIndex(slot, SlotTime.ACCEPTED)] !== 0)
        this.recorder.cancelled += calls;
      work.abandon(error);
    }
    this.shared.clear();
  }

  /** Calls waiting for a slot at priority `level`. */
  waitingAt(level: number): number {
    return this.waiters.queuedAt(level);
  }
}
