/**
 * Queue entries (EntryCodec in src/shm/slot.ts): the slot index in the low bits, the low bits of
 * the slot's generation above them, never negative; an entry names one incarnation of its slot.
 */
import { describe, expect, it } from 'vitest';
import { EntryCodec, SlotState, makeStateWord } from '../../src/shm/slot.js';

describe('queue entries', () => {
  it('carry the slot and the low generation bits, and stop naming the slot once it is reused', () => {
    const entries = new EntryCodec(10);
    for (const slot of [0, 1, 513, 1023]) {
      for (const generation of [0, 1, 7, 2 ** 17, 2 ** 18 - 1]) {
        const word = makeStateWord(generation, 3, SlotState.QUEUED);
        const entry = entries.encode(slot, word);
        expect(entry).toBeGreaterThanOrEqual(0);
        expect(entries.slotOf(entry)).toBe(slot);
        expect(entries.names(entry, word)).toBe(true);
        // The next incarnation (freed and queued again) is another entry.
        expect(entries.names(entry, makeStateWord(generation + 1, 0, SlotState.QUEUED))).toBe(false);
      }
    }
  });

  it('with 31 slot bits hold the slot alone', () => {
    const entries = new EntryCodec(31);
    const word = makeStateWord(9, 0, SlotState.QUEUED);
    const entry = entries.encode(2 ** 31 - 1, word);
    expect(entry).toBe(2 ** 31 - 1);
    expect(entries.slotOf(entry)).toBe(2 ** 31 - 1);
    expect(entries.names(entry, makeStateWord(12, 0, SlotState.QUEUED))).toBe(true);
  });
});
