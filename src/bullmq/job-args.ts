/**
 * Where a packed chunk's arguments live: as bytes in a Redis key of their own beside the job's
 * record, `<prefix>:<queue>:<job id>:viscose-args`, not in the job's data.
 *
 * BullMQ's scripts hand a job's data to Redis's Lua interpreter when the job is added and again
 * when a node takes it, and Lua makes every string it is given its own, reading each byte: on
 * Redis 7.0, a script given 120 KB took 145 µs where a SET of the same bytes took 2.5 µs. With
 * chunks of a few thousand calls, that was nearly all of Redis's CPU. Beside the job, the bytes
 * travel by plain SET and GET, as bytes (no base64, a third larger, and no JSON).
 *
 * Their lifetime follows the job's record:
 * - the client writes them before it adds the job, and awaits the write, so a node that takes the
 *   job finds them whatever connection BullMQ adds it on;
 * - the client deletes them when it removes the record (after reading the result, or withdrawing
 *   an aborted call's job), and when adding the job failed;
 * - when the job ends for good (completed, or failed with no attempt left), its node keeps them as
 *   long as BullMQ keeps the record: deleted at once if the record is removed at once or kept by
 *   count, expiring after the same age if kept by age, kept if the record is kept for good. A job
 *   that fails with attempts left keeps them for its next attempt.
 * A record removed by other means (by hand, `Queue.clean`, `Queue.drain`), and a job BullMQ fails
 * itself for stalling too often (no node hears of that failure), leave them until
 * `Queue.obliterate`, which removes every key of the queue.
 */
import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** How long BullMQ keeps a finished job's record (`removeOnComplete` / `removeOnFail`). */
type Retention = JobsOptions['removeOnComplete'];

export class JobArgs {
  private readonly keyPrefix: string;

  /**
   * @param connection a connection that is not blocked or subscribed.
   * @param queue the queue's name.
   * @param prefix BullMQ's key prefix (`bull` by default).
   */
  constructor(
    private readonly connection: Redis,
    queue: string,
    prefix = 'bull',
  ) {
    this.keyPrefix = `${prefix}:${queue}:`;
  }

  /** The key of job `id`'s arguments. */
  keyOf(id: string): string {
    return `${this.keyPrefix}${id}:viscose-args`;
  }

  /** Stores each job's arguments; throws the first error Redis answered. */
  async write(entries: readonly (readonly [id: string, bytes: Uint8Array])[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.connection.pipeline();
    for (const [id, bytes] of entries) pipeline.set(this.keyOf(id), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    throwFirst(await pipeline.exec());
  }

  /** Job `id`'s arguments; null when they are gone (removed, or expired with its record). */
  read(id: string): Promise<Buffer | null> {
    return this.connection.getBuffer(this.keyOf(id));
  }

  /** Deletes the arguments of jobs `ids`. */
  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.connection.del(...ids.map((id) => this.keyOf(id)));
  }

  /** Keeps job `id`'s arguments as long as BullMQ keeps its finished record under `retention`. */
  async retire(id: string, retention: Retention): Promise<void> {
    if (retention === false || retention === undefined) return;
    if (typeof retention === 'object' && 'age' in retention && retention.age > 0) {
      await this.connection.expire(this.keyOf(id), Math.ceil(retention.age));
    } else {
      await this.delete([id]);
    }
  }
}

function throwFirst(replies: [Error | null, unknown][] | null): void {
  if (replies === null) throw new Error('the Redis pipeline that writes chunk arguments was discarded');
  for (const [error] of replies) if (error !== null) throw error;
}
