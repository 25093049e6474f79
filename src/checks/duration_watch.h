#pragma once
// `option check-duration-alert MEDIAN_MS [window N]`: the moving median of a
// server's last N check durations, and when it crosses the threshold (up or
// back down). Each crossing is reported once. Pure; one per checked server,
// used on the check's thread only.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sluice::checks {

class DurationWatch {
 public:
  enum class Event { None, Crossed, Recovered };

  DurationWatch(std::int64_t threshold_ms, unsigned window)
      : threshold_ms_(threshold_ms), ring_(std::max(1U, window), 0) {}

  // Adds one check's duration. The median is judged once the window is
  // full, so one slow first check never alerts.
  Event add(std::int64_t duration_ms) {
    ring_[next_] = duration_ms;
    next_ = (next_ + 1) % ring_.size();
    if (count_ < ring_.size()) ++count_;
    if (count_ < ring_.size()) return Event::None;
    bool above = median() > threshold_ms_;
    if (above == alerting_) return Event::None;
    alerting_ = above;
    return above ? Event::Crossed : Event::Recovered;
  }

  // The median of the samples kept (the mean of the two middle ones for an
  // even count, rounded down); -1 before any sample.
  std::int64_t median() const {
    if (count_ == 0) return -1;
    scratch_.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(count_));
    std::size_t mid = count_ / 2;
    std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(mid),
                     scratch_.end());
    std::int64_t hi = scratch_[mid];
    if (count_ % 2 == 1) return hi;
    std::int64_t lo = *std::max_element(scratch_.begin(),
                                        scratch_.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lo + hi) / 2;
  }

  bool alerting() const { return alerting_; }
  std::size_t samples() const { return count_; }
  std::size_t window() const { return ring_.size(); }
  std::int64_t threshold_ms() const { return threshold_ms_; }

 private:
  std::int64_t threshold_ms_;
  std::vector<std::int64_t> ring_;
  mutable std::vector<std::int64_t> scratch_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  bool alerting_ = false;
};

}  // namespace sluice::checks
