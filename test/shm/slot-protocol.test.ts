/**
 * The slot protocol's table (src/shm/slot-protocol.ts): every change it lists happens through its
 * named operation, every change it does not list is refused by the operation that would make it
 * (the suites run with VISCOSE_CHECK_SLOTS=1, so every transition a pool makes in any test is
 * checked the same way), and the native claim's states are changes the table has.
 */
import { describe, expect, it } from 'vitest';
import { SlotState, claimEncodingWords, generationOf, makeStateWord, ownerOf, stateOf } from '../../src/shm/slot.js';
import {
  SLOT_TRANSITIONS,
  checkTransition,
  completeRecord,
  countedOut,
  finish,
  free,
  openRecord,
  publishQueued,
  tryClaim,
  tryTakeTombstone,
  tryWithdraw,
} from '../../src/shm/slot-protocol.js';

const { FREE, QUEUED, RUNNING, DONE, FAILED, CANCELLED, RECORD, RETURNED, COUNTING } = SlotState;
const STATES = Object.values(SlotState);

/** A state word at index 1 of a small table, in `state`, generation 5, owner 2. */
function slotIn(state: number): Int32Array {
  const words = new Int32Array(4);
  words[1] = makeStateWord(5, 2, state);
  return words;
}

/** Makes `from → to` with the operation that writes `to`; returns the new word. */
function transition(from: number, to: number): number {
  const words = slotIn(from);
  const current = words[1];
  switch (to) {
    case QUEUED:
      publishQueued(words, 1);
      break;
    case RECORD:
      openRecord(words, 1, 3);
      break;
    case RUNNING:
      if (tryClaim(words, 1, current, 3) !== current) throw new Error('claim lost');
      break;
    case RETURNED:
      if (tryTakeTombstone(words, 1, current, 3) !== current) throw new Error('tombstone lost');
      break;
    case CANCELLED:
      if (tryWithdraw(words, 1, current) !== current) throw new Error('withdrawal lost');
      break;
    case DONE:
      if (from === COUNTING) countedOut(words, 1, 3);
      else if (from === RECORD) completeRecord(words, 1, 3, false);
      else finish(words, 1, 3, DONE);
      break;
    case FAILED:
      if (from === RECORD) completeRecord(words, 1, 3, true);
      else finish(words, 1, 3, FAILED);
      break;
    case COUNTING:
      finish(words, 1, 3, COUNTING);
      break;
    case FREE:
      free(words, 1);
      break;
  }
  return words[1];
}

const edges = Object.entries(SLOT_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => [Number(from), to] as const));

describe('the slot protocol', () => {
  it('runs with the table checked', () => {
    expect(process.env.VISCOSE_CHECK_SLOTS).toBe('1');
  });

  it.each(edges)('%i → %i happens through its operation, with the owner and generation it should leave', (from, to) => {
    const word = transition(from, to);
    expect(stateOf(word)).toBe(to);
    // Freeing starts a new generation; every other change keeps it.
    expect(generationOf(word)).toBe(to === FREE ? 6 : 5);
    if (to === FREE || to === QUEUED || to === CANCELLED) expect(ownerOf(word)).toBe(0);
    else expect(ownerOf(word)).toBe(3);
  });

  it('refuses every change the table does not list', () => {
    let refused = 0;
    for (const from of STATES) {
      for (const to of STATES) {
        if (SLOT_TRANSITIONS[from]?.includes(to)) continue;
        expect(() => checkTransition(from, to)).toThrow(/is not in the protocol's table/);
        expect(() => transition(from, to)).toThrow(/is not in the protocol's table/);
        refused++;
      }
    }
    expect(refused).toBe(STATES.length * STATES.length - edges.length);
  });

  it('a compare-exchange whose word moved meanwhile writes nothing', () => {
    const words = slotIn(QUEUED);
    const before = words[1];
    expect(tryClaim(words, 1, makeStateWord(4, 0, QUEUED), 3)).toBe(before);
    expect(tryWithdraw(words, 1, makeStateWord(4, 0, QUEUED))).toBe(before);
    expect(words[1]).toBe(before);
  });

  it('the native claim makes only changes the table has', () => {
    const [, , , , queued, running, cancelled, returned] = claimEncodingWords();
    expect(SLOT_TRANSITIONS[queued]).toContain(running);
    expect(SLOT_TRANSITIONS[cancelled]).toContain(returned);
  });
});
