// A worker's nested region as its successor finds it after the worker died: tasks queued but in no
// queue are queued again, slots still in use are kept until they finish, and finished ones are
// collected once the free list runs dry.
import { describe, expect, it } from 'vitest';
import { EMPTY } from '../../src/queue/work-queue.js';
import { nestedSlotBase } from '../../src/shm/layout.js';
import { ONE_PART } from '../../src/shm/scope-count.js';
import { SlotField, SlotFlag, SlotState, makeStateWord } from '../../src/shm/slot.js';
import { workerDeque, workerMailbox } from '../../src/queue/open.js';
import { NestedSlots } from '../../src/worker/nested-slots.js';
import { makeCodec } from '../support/codec.js';

function region() {
  const rig = makeCodec();
  const { layout, slots } = rig;
  const first = nestedSlotBase(layout, 0);
  const words = slots.words;
  const setState = (slot: number, state: number, generation = 1) =>
    Atomics.store(words, slots.word(slot, SlotField.STATE), makeStateWord(generation, 0, state));
  const deque = workerDeque(words, layout, 0, { backend: 'js', claims: slots });
  const mailbox = workerMailbox(words, layout, 0);
  return { rig, slots, words, first, count: layout.nestedSlots, setState, deque, mailbox };
}

describe('NestedSlots for a successor', () => {
  it('queues again the QUEUED tasks whose entry the dead worker took with it, and only those', () => {
    const { rig, slots, first, count, setState, deque, mailbox } = region();
    const [inDeque, lost, inMailbox, running] = [first, first + 1, first + 2, first + 3];
    for (const slot of [inDeque, lost, inMailbox]) setState(slot, SlotState.QUEUED);
    setState(running, SlotState.RUNNING);
    const entryOf = (slot: number) => slots.entryFor(slot, slots.loadState(slot));
    deque.push(entryOf(inDeque));
    mailbox.post(entryOf(inMailbox));

    const nested = new NestedSlots(slots, rig.codec, first, count);
    nested.requeueLost(workerDeque(slots.words, rig.layout, 0, { backend: 'js', claims: slots }), [mailbox]);
    const successorDeque = workerDeque(slots.words, rig.layout, 0, { backend: 'js', claims: slots });
    const queued: number[] = [];
    for (let entry = successorDeque.pop(); entry !== EMPTY; entry = successorDeque.pop()) queued.push(slots.slotOfEntry(entry));
    expect(queued.sort()).toEqual([inDeque, lost]);
    // Every slot of the region is in use: nothing to allocate until one finishes.
    expect(nested.allocate()).toBe(-1);
  });

  it('frees orphans once finished: a result nobody reads, a spawned task, a completed scope record', () => {
    const { rig, slots, words, first, count, setState } = region();
    const [result, spawned, record, openRecord] = [first, first + 1, first + 2, first + 3];
    rig.codec.store(result, rig.codec.encodeValue('x'.repeat(5000), 'result')); // in an arena block
    setState(result, SlotState.DONE);
    words[slots.word(spawned, SlotField.FLAGS)] = SlotFlag.DISCARD_RESULT;
    setState(spawned, SlotState.DONE);
    setState(record, SlotState.RECORD);
    Atomics.store(words, slots.word(record, SlotField.COUNT), 0);
    setState(openRecord, SlotState.RECORD);
    Atomics.store(words, slots.word(openRecord, SlotField.COUNT), ONE_PART);

    const nested = new NestedSlots(slots, rig.codec, first, count);
    const freed = [nested.allocate(), nested.allocate(), nested.allocate()];
    expect(freed.sort()).toEqual([result, spawned, record]);
    expect(nested.allocate()).toBe(-1); // the open scope still has a part running elsewhere
    // The result's arena block was given back: the slot no longer names one.
    expect(words[slots.word(result, SlotField.ARENA)]).toBe(-1);
    // Its parts done, the open record is freed too, with a new generation.
    Atomics.store(words, slots.word(openRecord, SlotField.COUNT), 0);
    for (const slot of freed) nested.release(slot);
    for (let i = 0; i < 3; i++) nested.allocate();
    expect(nested.allocate()).toBe(openRecord);
    expect(slots.loadState(openRecord) >>> 14).toBe(2);
  });
});
