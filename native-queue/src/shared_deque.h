// The Chase–Lev deque of src/queue/deque.ts, over the same shared words, with C++ atomics.
//
// Three words and a ring, all Int32 in the pool's SharedArrayBuffer: `top` (advanced by thieves
// and by the owner's last-entry pop, always by compare-exchange), `bottom` (written by the owner
// only) and `capacity` ring entries (written by the owner only, at `bottom`). Indices wrap at
// 2^32 as int32 arithmetic: lengths are differences computed in unsigned arithmetic and read back
// as signed, which stays right as long as a length is below 2^31.
//
// The orderings follow Lê, Pop, Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing for
// Weak Memory Models" (PPoPP 2013), with one change shared with the TypeScript deque: a thief
// claims the task an entry names (SlotClaimer) before it moves `top` past the entry.
//
// JavaScript's Atomics are all sequentially consistent; these operations are weaker where the
// paper proves it safe. Mixing the two on one word is sound on the hardware this runs on: V8's
// Atomics use the processor's strongest forms (a store is an exchange on x86; loads and stores are
// load-acquire and store-release on arm64), at least as strong as every ordering used here.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "slot_claim.h"

namespace viscose {

// Results of pop and steal that are not entries (entries are non-negative), as in deque.ts.
constexpr int32_t kEmpty = -1;
constexpr int32_t kRetry = -2;

// Where one deque lives in the shared words.
struct DequeWords {
  int32_t* words = nullptr;
  uint32_t top = 0;
  uint32_t bottom = 0;
  uint32_t ring = 0;
  uint32_t capacity = 0;
};

// What a steal came to: a claimed slot, EMPTY, RETRY, or a withdrawn call taken for the main thread.
struct StealResult {
  enum Kind { kClaimed, kEmpty, kRetry, kWithdrawn } kind;
  int32_t slot;
};

inline int32_t wrapping_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

inline int32_t wrapping_sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}

class SharedDeque {
 public:
  explicit SharedDeque(const DequeWords& at)
      : at_(at), mask_(at.capacity - 1), bottom_(atomic(at.bottom).load(std::memory_order_relaxed)) {}

  uint32_t capacity() const { return at_.capacity; }

  // Only while no other thread uses the deque.
  void reset(int32_t start) {
    atomic(at_.top).store(start, std::memory_order_seq_cst);
    atomic(at_.bottom).store(start, std::memory_order_seq_cst);
    bottom_ = start;
  }

  // Owner only.
  bool has_room() const {
    // Acquire, as in push: a position a thief has moved `top` past is free to overwrite only once
    // its read of that position is known to be done.
    return wrapping_sub(bottom_, atomic(at_.top).load(std::memory_order_acquire)) < static_cast<int32_t>(at_.capacity);
  }

  // Owner only. False when full; the entry is then not queued.
  bool push(int32_t entry) {
    const int32_t b = bottom_;
    // Acquire pairs with the thieves' compare-exchange of `top`: their read of the position being
    // reused happened before it.
    const int32_t t = atomic(at_.top).load(std::memory_order_acquire);
    if (wrapping_sub(b, t) >= static_cast<int32_t>(at_.capacity)) return false;
    slot_at(b).store(entry, std::memory_order_relaxed);
    const int32_t next = wrapping_add(b, 1);
    // Release: a thief that reads the new `bottom` with acquire also reads the entry written above.
    atomic(at_.bottom).store(next, std::memory_order_release);
    bottom_ = next;
    return true;
  }

  // Owner only. The most recently pushed entry, or kEmpty.
  int32_t pop() {
    const int32_t b = wrapping_sub(bottom_, 1);
    atomic(at_.bottom).store(b, std::memory_order_relaxed);
    // The store-load fence of the algorithm: the lowered `bottom` must be visible to thieves before
    // `top` is read, or the owner and a thief could both take the last entry (each reading the
    // other's index from before its own write). Pairs with the fence in steal.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const int32_t t = atomic(at_.top).load(std::memory_order_relaxed);
    const int32_t size = wrapping_sub(b, t);
    if (size < 0) {
      atomic(at_.bottom).store(bottom_, std::memory_order_relaxed);
      return kEmpty;
    }
    const int32_t entry = slot_at(b).load(std::memory_order_relaxed);
    if (size > 0) {
      bottom_ = b;
      return entry;
    }
    // The last entry: thieves may be taking it too, so win it through `top` like they do.
    // Sequentially consistent, as the thieves' compare-exchange on the same word.
    int32_t expected = t;
    const bool won = atomic(at_.top).compare_exchange_strong(expected, wrapping_add(t, 1), std::memory_order_seq_cst,
                                                             std::memory_order_relaxed);
    atomic(at_.bottom).store(bottom_, std::memory_order_relaxed);
    return won ? entry : kEmpty;
  }

  // Any thread. Claims the task of the oldest entry, then removes the entry.
  StealResult steal(const SlotClaimer& claimer, uint32_t worker, bool take_withdrawn) {
    int32_t t;
    int32_t entry;
    if (!read_oldest(t, entry)) return {StealResult::kEmpty, -1};
    if (entry < 0) return {StealResult::kRetry, -1};
    const ClaimResult claimed = claimer.claim(entry, worker, take_withdrawn);
    // Whoever wins `top` removes the entry; a loser's entry was either claimed by it (the task is
    // its own) or is stale (skipped), so the outcome of this exchange changes nothing for us.
    int32_t expected = t;
    atomic(at_.top).compare_exchange_strong(expected, wrapping_add(t, 1), std::memory_order_seq_cst,
                                            std::memory_order_relaxed);
    switch (claimed.kind) {
      case ClaimResult::kClaimed:
        return {StealResult::kClaimed, claimed.slot};
      case ClaimResult::kWithdrawn:
        return {StealResult::kWithdrawn, claimed.slot};
      default:
        return {StealResult::kRetry, -1};
    }
  }

  // The new owner of a dead owner's deque; see ChaseLevDeque.adoptOwnership.
  std::vector<int32_t> adopt_ownership() {
    const int32_t t = atomic(at_.top).load(std::memory_order_seq_cst);
    int32_t b = atomic(at_.bottom).load(std::memory_order_seq_cst);
    if (wrapping_sub(b, t) < 0) {
      b = t;
      atomic(at_.bottom).store(b, std::memory_order_seq_cst);
    }
    bottom_ = b;
    std::vector<int32_t> entries;
    for (int32_t i = t; i != b; i = wrapping_add(i, 1)) entries.push_back(slot_at(i).load(std::memory_order_acquire));
    return entries;
  }

  // Any thread: snapshots.
  int32_t size() const {
    const int32_t n = wrapping_sub(atomic(at_.bottom).load(std::memory_order_acquire),
                                   atomic(at_.top).load(std::memory_order_acquire));
    return n > 0 ? n : 0;
  }

 private:
  std::atomic_ref<int32_t> atomic(uint32_t word) const { return std::atomic_ref<int32_t>(at_.words[word]); }
  std::atomic_ref<int32_t> slot_at(int32_t index) const {
    return atomic(at_.ring + (static_cast<uint32_t>(index) & mask_));
  }

  // Reads `top` and the entry at it. False when the deque is empty; `entry` is kRetry when `top`
  // moved while reading (the position may already hold a newer entry).
  bool read_oldest(int32_t& t, int32_t& entry) const {
    t = atomic(at_.top).load(std::memory_order_acquire);
    // Pairs with the fence in pop: of an owner taking the last entry and a thief, at least one sees
    // the other's index.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const int32_t b = atomic(at_.bottom).load(std::memory_order_acquire);
    if (wrapping_sub(b, t) <= 0) return false;
    // Acquire keeps the re-read of `top` below after this load. With `top` still at t, the entry
    // read is the t-th: the owner reuses this position only after it saw `top` past t. The re-read
    // keeps the order of tasks; exactly-once rests on the claim, not on it.
    entry = slot_at(t).load(std::memory_order_acquire);
    if (atomic(at_.top).load(std::memory_order_acquire) != t) entry = kRetry;
    return true;
  }

  DequeWords at_;
  uint32_t mask_;
  // The owner's copy of `bottom`: only the owner writes the shared word.
  int32_t bottom_;
};

}  // namespace viscose
