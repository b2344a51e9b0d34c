/**
 * What a node waits for when it drains: the jobs it started whose outcome BullMQ has not recorded
 * yet. BullMQ tells of a recorded outcome with its worker's `completed` and `failed` events. On
 * the way it times each recording, for the count of jobs a node takes at once (jobs-at-once.ts).
 */
/**
 * How long a drain waits, once every task has ended, for outcomes BullMQ has not recorded: it
 * records one in a round trip or two, and never records one whose lock was lost meanwhile (another
 * node runs that job again).
 */
const RECORDING_GRACE_MS = 5_000;

/** The jobs a node has started and whose outcome BullMQ has not recorded yet. */
export class JobsInHand {
  /** Per job started and not recorded: when its task ended, once it has. */
  private readonly unrecorded = new Map<string, number | undefined>();
  private running = 0;
  private whenDrained: (() => void)[] = [];
  private grace: NodeJS.Timeout | undefined;

  /** `onRecorded` is told, per job, the milliseconds from its task's end to its recorded outcome. */
  constructor(private readonly onRecorded: (recordingMs: number) => void) {}

  started(id: string): void {
    this.unrecorded.set(id, undefined);
    this.running++;
  }

  /** The job's task has ended; BullMQ records its outcome next. */
  ended(id: string): void {
    if (this.unrecorded.has(id)) this.unrecorded.set(id, performance.now());
    this.running--;
    this.check();
  }

  /** BullMQ has recorded the job's outcome. */
  recorded(id: string): void {
    const endedAt = this.unrecorded.get(id);
    this.unrecorded.delete(id);
    if (endedAt !== undefined) this.onRecorded(performance.now() - endedAt);
    this.check();
  }

  /** Resolves once every job started so far has its outcome recorded (or could not have it). */
  drained(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.whenDrained.push(resolve));
    this.check();
    return drained;
  }

  private check(): void {
    if (this.whenDrained.length === 0) return;
    if (this.unrecorded.size === 0) {
      this.release();
      return;
    }
    if (this.running === 0) this.grace ??= setTimeout(() => this.release(), RECORDING_GRACE_MS);
  }

  private release(): void {
    clearTimeout(this.grace);
    this.grace = undefined;
    const waiters = this.whenDrained;
    this.whenDrained = [];
    for (const resolve of waiters) resolve();
  }
}
