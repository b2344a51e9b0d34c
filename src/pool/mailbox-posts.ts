/**
 * Posting main-thread broadcast parts to the workers' mailboxes: a part whose worker's mailbox is
 * full waits here and is posted again at the dispatcher's next drain, when the worker may have
 * taken what filled it. A part whose worker retired since the broadcast picked it (an elastic
 * pool) is queued for any worker instead.
 */
import type { Mailbox } from '../queue/mailbox.js';
import type { Sleep } from '../sync/sleep.js';

export class MailboxPosts {
  private deferred: [worker: number, entry: number][] = [];

  constructor(
    private readonly mailboxes: readonly Mailbox[],
    private readonly sleep: Sleep,
    /** Queues an entry for any worker. */
    private readonly queueForAny: (entry: number) => void,
  ) {}

  /** Posts `entry` to `worker`'s mailbox and wakes it, or keeps it for `retry` if the mailbox is full. */
  post(worker: number, entry: number): void {
    const outcome = this.mailboxes[worker].post(entry);
    if (outcome === 'posted') this.sleep.wake(worker);
    else if (outcome === 'full') this.deferred.push([worker, entry]);
    else this.queueForAny(entry);
  }

  /** Posts again what found a full mailbox. */
  retry(): void {
    if (this.deferred.length === 0) return;
    const posts = this.deferred;
    this.deferred = [];
    for (const [worker, entry] of posts) this.post(worker, entry);
  }
}
