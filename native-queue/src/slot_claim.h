// Claiming the task a queue entry names: one compare-exchange on the state word of its slot.
//
// The same rule as src/queue/claim.ts: an entry carries a slot index in its low `slot_bits` bits
// and the low bits of the slot's generation above them. A claim succeeds only on a QUEUED slot of
// the same generation, and moves it to RUNNING with the claiming worker as its owner. Two takers
// may hold the same entry for a moment (a thief reads it before it leaves the queue); the
// compare-exchange lets only one of them have the task.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace viscose {

// The state word's fields and the states a claim reads and writes. The values come from the
// TypeScript definition (src/shm/slot.ts) when the addon is loaded, so the two cannot drift.
struct StateEncoding {
  uint32_t state_mask = 0;
  uint32_t owner_shift = 0;
  uint32_t owner_mask = 0;
  uint32_t generation_shift = 0;
  int32_t queued = -1;
  int32_t running = -1;
  int32_t cancelled = -1;
  int32_t returned = -1;
};

// Where the state words of the slots live, and how many bits of an entry name the slot.
struct ClaimTable {
  int32_t* words = nullptr;
  uint32_t base_word = 0;
  uint32_t stride_words = 0;
  uint32_t slot_bits = 0;
  // Slots whose state word lies inside `words`: an entry naming any other is treated as stale.
  uint32_t slots = 0;
};

// What the claim of one entry came to.
struct ClaimResult {
  enum Kind { kClaimed, kStale, kWithdrawn } kind;
  int32_t slot;
};

class SlotClaimer {
 public:
  SlotClaimer(const ClaimTable& table, const StateEncoding& encoding)
      : table_(table),
        encoding_(encoding),
        slot_mask_((uint32_t{1} << table.slot_bits) - 1),
        entry_generation_mask_(table.slot_bits >= 31 ? 0 : (uint32_t{1} << (31 - table.slot_bits)) - 1) {}

  // Claims the task of `entry` for `worker`. With `take_withdrawn`, an entry whose call was
  // withdrawn (CANCELLED, same generation) is taken instead, marked RETURNED, for the caller to
  // hand back to the main thread.
  ClaimResult claim(int32_t entry, uint32_t worker, bool take_withdrawn) const {
    const int32_t slot = static_cast<int32_t>(static_cast<uint32_t>(entry) & slot_mask_);
    if (static_cast<uint32_t>(slot) >= table_.slots) return {ClaimResult::kStale, slot};
    // In size_t: the word index passes 2^32 in a buffer past 16 GiB, where 32-bit arithmetic wraps.
    std::atomic_ref<int32_t> state(
        table_.words[static_cast<size_t>(table_.base_word) + static_cast<size_t>(slot) * table_.stride_words]);
    // Acquire: if the slot is QUEUED, its header and arguments were written before it was; a
    // successful claim must not let the task's reads move before this load.
    int32_t current = state.load(std::memory_order_acquire);
    // A lost compare-exchange is looked at again (it leaves the value it found in `current`): the
    // main thread may have withdrawn the call between the load and the exchange, and the tombstone
    // must then still be taken, or its slot would never go back. States only move forward.
    for (;;) {
      const uint32_t generation = (static_cast<uint32_t>(current) >> encoding_.generation_shift) & entry_generation_mask_;
      if (generation != static_cast<uint32_t>(entry) >> table_.slot_bits) return {ClaimResult::kStale, slot};
      const int32_t state_now = static_cast<int32_t>(static_cast<uint32_t>(current) & encoding_.state_mask);
      int32_t next_state;
      ClaimResult::Kind kind;
      if (state_now == encoding_.queued) {
        next_state = encoding_.running;
        kind = ClaimResult::kClaimed;
      } else if (take_withdrawn && state_now == encoding_.cancelled) {
        next_state = encoding_.returned;
        kind = ClaimResult::kWithdrawn;
      } else {
        return {ClaimResult::kStale, slot};
      }
      // Sequentially consistent, like the JS side's Atomics.compareExchange on the same word: the
      // claim is the one point every taker of this entry agrees on, and the thief's later
      // compare-exchange of `top` must not be seen before it (a thief that stops in between leaves
      // a claimed task and a stale entry, never a task queued nowhere). Acquire on failure: the
      // value found is looked at again.
      if (state.compare_exchange_strong(current, with_state(current, worker, next_state), std::memory_order_seq_cst,
                                        std::memory_order_acquire)) {
        return {kind, slot};
      }
    }
  }

 private:
  int32_t with_state(int32_t word, uint32_t owner, int32_t state) const {
    const uint32_t cleared =
        static_cast<uint32_t>(word) & ~((encoding_.owner_mask << encoding_.owner_shift) | encoding_.state_mask);
    return static_cast<int32_t>(cleared | (owner << encoding_.owner_shift) | static_cast<uint32_t>(state));
  }

  ClaimTable table_;
  StateEncoding encoding_;
  uint32_t slot_mask_;
  uint32_t entry_generation_mask_;
};

}  // namespace viscose
