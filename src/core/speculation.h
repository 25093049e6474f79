#pragma once
// Whether a new connection's first read is worth trying before its first
// epoll edge. Right after accept the client's first bytes are often there
// already (a read then saves a wake-up and, in HTTP, the epoll_ctl of a
// connection that closes after one answer), but under load with batches
// of accepts many are not yet: each miss is a recv that fails with EAGAIN.
// The gate keeps a score of recent outcomes (a hit is worth one, a miss
// costs two: trying pays off above two hits in three) and, while the score
// says no, still tries one connection in kProbeEvery to notice a change.
// One per worker thread; no locking.

#include <algorithm>
#include <cstdint>

namespace sluice::core {

class SpeculationGate {
 public:
  static constexpr int kMax = 16;
  static constexpr int kMin = -16;
  static constexpr std::uint32_t kProbeEvery = 16;

  bool should_try() {
    if (score_ >= 0) return true;
    return ++skipped_ % kProbeEvery == 0;
  }
  // The outcome of a try: whether it found data (or the peer's EOF).
  void record(bool hit) { score_ = hit ? std::min(score_ + 1, kMax) : std::max(score_ - 2, kMin); }
  int score() const { return score_; }

 private:
  int score_ = 0;
  std::uint32_t skipped_ = 0;
};

}  // namespace sluice::core
