/**
 * Posting main-thread broadcast parts to the workers' mailboxes: a part whose worker's mailbox is
 * full waits here and is posted again at the dispatcher's next drain, when the worker may have
 * taken what filled it.
 */
import type { Mailbox } from '../queue/mailbox.js';
import type { Sleep } from '../sync/sleep.js';

export class MailboxPosts {
  private deferred: [worker: number, entry: number][] = [];

  constructor(
    private readonly mailboxes: readonly Mailbox[],
    private readonly sleep: Sleep,
  ) {}

  /** Posts `entry` to `worker`'s mailbox and wakes it, or keeps it for `retry` if the mailbox is full. */
  post(worker: number, entry: number): void {
    if (this.mailboxes[worker].post(entry)) this.sleep.wake(worker);
    else this.deferred.push([worker, entry]);
  }

  /** Posts again what found a full mailbox. */
  retry(): void {
    if (this.deferred.length === 0) return;
    const posts = this.deferred;
    this.deferred = [];
    for (const [worker, entry] of posts) this.post(worker, entry);
  }
}
