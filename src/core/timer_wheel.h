#pragma once
// The timer wheel behind Loop's timers (internal to core; here so that tests
// can drive it with a fake clock).

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <vector>

#include "core/loop.h"

namespace sluice::core {

// Hierarchical timer wheel: 11 levels of 64 slots, 1 ms per slot at level 0,
// each level 64 times coarser (the 11 levels cover every 64-bit deadline).
// A timer sits at the level of the highest 6-bit digit in which its deadline
// differs from `cur_` (the last time processed), in the slot named by that
// digit. So at every level all occupied slots lie strictly after cur_'s digit,
// the first occupied slot of the lowest occupied level gives the next wake-up,
// and advancing only visits the slots that time has passed, cascading timers
// that are not due yet down to finer levels. Arm and cancel are O(1) list
// operations on intrusive nodes; nothing allocates once the scratch vectors
// have grown.
class TimerWheel {
 public:
  static constexpr int kBits = 6;
  static constexpr int kSlots = 1 << kBits;
  static constexpr int kLevels = 11;
  static constexpr std::uint32_t kDueSlot = kLevels * kSlots;

  explicit TimerWheel(std::int64_t now) : cur_(static_cast<std::uint64_t>(now)) {}

  // Set the deadline and arming sequence of `t` (not linked anywhere) and link it.
  void schedule(Timer& t, std::int64_t deadline, std::uint64_t seq) {
    t.deadline_ = deadline;
    t.seq_ = seq;
    insert(t);
  }

  void insert(Timer& t) {
    std::uint64_t d = t.deadline_ < 0 ? 0 : static_cast<std::uint64_t>(t.deadline_);
    // Already due: the earliest we can fire it is the next millisecond processed.
    if (d <= cur_) d = cur_ + 1;
    const int level = (63 - std::countl_zero(d ^ cur_)) / kBits;
    const auto idx = static_cast<std::uint32_t>((d >> (level * kBits)) & (kSlots - 1));
    push(static_cast<std::uint32_t>(level) * kSlots + idx, t);
  }

  void unlink(Timer& t) {
    const std::uint32_t s = t.slot_;
    if (t.prev_)
      t.prev_->next_ = t.next_;
    else
      head_[s] = t.next_;
    if (t.next_)
      t.next_->prev_ = t.prev_;
    else
      tail_[s] = t.prev_;
    t.prev_ = t.next_ = nullptr;
    if (!head_[s] && s < kDueSlot) occupied_[s / kSlots] &= ~(1ULL << (s % kSlots));
  }

  bool has_due() const { return head_[kDueSlot] != nullptr; }

  // The time (ms) at which advance() has work, or -1 when no timer is armed.
  std::int64_t next_expiry() const {
    if (has_due()) return static_cast<std::int64_t>(cur_);
    for (int level = 0; level < kLevels; ++level) {
      const std::uint64_t occ = occupied_[level];
      if (!occ) continue;
      const int shift = level * kBits;
      const int upper = shift + kBits;
      const std::uint64_t base = upper >= 64 ? 0 : (cur_ >> upper) << upper;
      const auto idx = static_cast<std::uint64_t>(std::countr_zero(occ));
      return static_cast<std::int64_t>(base | (idx << shift));
    }
    return -1;
  }

  // Process time up to `now`: due timers go to the due list in firing order
  // (deadline, then arming order); the others move to finer levels.
  void advance(std::int64_t now_signed) {
    const auto now = static_cast<std::uint64_t>(now_signed);
    if (now <= cur_) return;
    const std::uint64_t old = cur_;
    for (int level = 0; level < kLevels; ++level) {
      const int shift = level * kBits;
      const std::uint64_t from = old >> shift;
      const std::uint64_t to = now >> shift;
      if (from == to) break;  // coarser digits did not move either
      const std::uint64_t n = to - from;
      std::uint64_t mask = ~0ULL;
      if (n < kSlots) {
        mask = std::rotl((1ULL << n) - 1, static_cast<int>((from + 1) & (kSlots - 1)));
      }
      std::uint64_t hit = occupied_[level] & mask;
      while (hit) {
        const int idx = std::countr_zero(hit);
        hit &= hit - 1;
        const std::uint32_t s = static_cast<std::uint32_t>(level) * kSlots + idx;
        for (Timer* t = head_[s]; t;) {
          Timer* next = t->next_;
          t->prev_ = t->next_ = nullptr;
          scratch_.push_back(t);
          t = next;
        }
        head_[s] = tail_[s] = nullptr;
        occupied_[level] &= ~(1ULL << idx);
      }
    }
    cur_ = now;
    for (Timer* t : scratch_) {
      if (t->deadline_ <= now_signed)
        due_.push_back(t);
      else
        insert(*t);
    }
    scratch_.clear();
    if (due_.empty()) return;
    std::sort(due_.begin(), due_.end(), [](const Timer* a, const Timer* b) {
      return a->deadline_ != b->deadline_ ? a->deadline_ < b->deadline_ : a->seq_ < b->seq_;
    });
    for (Timer* t : due_) push(kDueSlot, *t);
    due_.clear();
  }

  Timer* pop_due() {
    Timer* t = head_[kDueSlot];
    if (t) unlink(*t);
    return t;
  }

  // Disarm everything (the loop is going away).
  void clear() {
    for (std::uint32_t s = 0; s <= kDueSlot; ++s) {
      for (Timer* t = head_[s]; t;) {
        Timer* next = t->next_;
        t->prev_ = t->next_ = nullptr;
        t->loop_ = nullptr;
        t = next;
      }
      head_[s] = tail_[s] = nullptr;
    }
    occupied_.fill(0);
  }

 private:
  void push(std::uint32_t s, Timer& t) {
    t.slot_ = s;
    t.next_ = nullptr;
    t.prev_ = tail_[s];
    if (tail_[s])
      tail_[s]->next_ = &t;
    else
      head_[s] = &t;
    tail_[s] = &t;
    if (s < kDueSlot) occupied_[s / kSlots] |= 1ULL << (s % kSlots);
  }

  std::uint64_t cur_;
  std::array<Timer*, kDueSlot + 1> head_{};
  std::array<Timer*, kDueSlot + 1> tail_{};
  std::array<std::uint64_t, kLevels> occupied_{};
  std::vector<Timer*> scratch_;
  std::vector<Timer*> due_;
};

}  // namespace sluice::core
