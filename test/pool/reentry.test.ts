// Listeners the main thread runs while it consumes finished tasks (an observer's `ran`, an
// `onEvent` listener) may make calls of their own at once. Submitting consumes finished tasks
// first, so those calls are made in the middle of another call's submission: after its arguments
// were encoded, before they were stored, and while the completion ring is being drained. Every call
// must still get its own arguments and its own result.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ThreadPool } from 'viscose';
import type * as Tasks from '../fixtures/reentry.mjs';

const module = new URL('../fixtures/reentry.mjs', import.meta.url);
/** Rounds of: one watched call, then a burst of calls submitted in one synchronous loop while it runs. */
const ROUNDS = 60;
/** How long the watched call runs, and the burst lasts: the call finishes inside the burst. */
const WATCHED_MS = 2;
const BURST_MS = 5;
/**
 * Small enough for calls made in one turn to share slots (coalescer.ts), large enough that a
 * listener's calls fill a shared slot's chunk, which is then assembled and submitted at once.
 */
const PAD = 'x'.repeat(600);
const NESTED_CALLS = 120;

let pool: ThreadPool<typeof Tasks>;
beforeEach(async () => {
  pool = await ThreadPool.create<typeof Tasks>({ module, threads: 2 });
});
afterEach(async () => {
  await pool?.close();
});

/** What each burst submitted and what came back wrong; `reentered` counts listeners run inside a burst. */
interface Tally {
  calls: number;
  wrong: string[];
  reentered: number;
}

/**
 * Runs ROUNDS rounds: `watched(listener)` starts a call whose listener runs `nested` once the call
 * has finished, then a burst of `submit(tag)` calls follows in one synchronous loop.
 */
async function rounds(
  watched: (listen: () => void) => Promise<unknown>,
  submit: (tag: string) => Promise<void>,
  nested: (tag: string) => Promise<void>,
): Promise<Tally> {
  const tally: Tally = { calls: 0, wrong: [], reentered: 0 };
  let inBurst = false;
  const pending: Promise<void>[] = [];
  const track = (call: Promise<void>) =>
    pending.push(
      call.then(
        () => void tally.calls++,
        (error: Error) => void tally.wrong.push(error.message),
      ),
    );
  for (let round = 0; round < ROUNDS; round++) {
    const first = watched(() => {
      if (inBurst) tally.reentered++;
      track(nested(`nested-${round}`));
    });
    inBurst = true;
    const until = performance.now() + BURST_MS;
    for (let k = 0; performance.now() < until; k++) track(submit(`burst-${round}-${k}`));
    inBurst = false;
    await first;
  }
  await Promise.all(pending);
  return tally;
}

/** A call of echo that fails unless it gets its own value back. */
function echoed(tag: string): Promise<void> {
  return pool.run('echo', { tag, pad: PAD }).then((value) => {
    if (value.tag !== tag) throw new Error(`${tag} got ${value.tag}`);
  });
}

/** NESTED_CALLS calls of echo made at once, that fail unless each gets its own value back. */
function manyEchoed(tag: string): Promise<void> {
  return Promise.all(Array.from({ length: NESTED_CALLS }, (_, i) => echoed(`${tag}-${i}`))).then(() => undefined);
}

/** A batch of echo calls that fails unless each gets its own value back. */
function batchEchoed(tag: string): Promise<void> {
  const values = Array.from({ length: 40 }, (_, i) => ({ tag: `${tag}-${i}`, pad: PAD }));
  return pool
    .with({ chunkSize: 10 })
    .runBatch(
      'echo',
      values.map((value) => [value]),
    )
    .then((results) => {
      results.forEach((value, i) => {
        if (value.tag !== values[i].tag) throw new Error(`${values[i].tag} got ${value.tag}`);
      });
    });
}

/** A call whose observer's `ran` is `listen`. */
const observed = (listen: () => void) => pool.with({ observer: { ran: listen } }).run('echoLater', { tag: 'watched', pad: '' }, WATCHED_MS);
/** A call whose `onEvent` listener is `listen`. */
const listened = (listen: () => void) => pool.with({ onEvent: listen }).run('echoAfterEvent', { tag: 'watched', pad: '' }, WATCHED_MS);

describe('calls made by listeners while another call is being submitted', () => {
  it.each([
    ["an observer's ran makes many at once, sharing slots", observed, echoed, manyEchoed],
    ['an onEvent listener makes one', listened, echoed, echoed],
    ["an observer's ran makes a batch, in a burst of batches", observed, batchEchoed, batchEchoed],
  ])('get their own results when %s', async (_, watched, submit, nested) => {
    const tally = await rounds(watched, submit, nested);
    expect(tally.wrong).toEqual([]);
    expect(tally.reentered).toBeGreaterThan(0);
  });
});
