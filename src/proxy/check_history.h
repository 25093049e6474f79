#pragma once
// The last few check durations of a server, for the stats page's
// sparkline. Written by the check's thread, read by any: relaxed atomics,
// a reader may see one slot from the next round, which a sparkline shows
// harmlessly.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::proxy {

class CheckHistory {
 public:
  static constexpr std::size_t kSize = 20;
  void push(std::int64_t ms) {
    const std::uint32_t n = count_.load(std::memory_order_relaxed);
    ms_[n % kSize].store(static_cast<std::int32_t>(ms), std::memory_order_relaxed);
    count_.store(n + 1, std::memory_order_release);
  }
  // Oldest first.
  std::vector<std::int32_t> read() const {
    const std::uint32_t n = count_.load(std::memory_order_acquire);
    const std::size_t have = n < kSize ? n : kSize;
    std::vector<std::int32_t> out;
    out.reserve(have);
    for (std::size_t i = 0; i < have; ++i)
      out.push_back(ms_[(n - have + i) % kSize].load(std::memory_order_relaxed));
    return out;
  }

 private:
  std::array<std::atomic<std::int32_t>, kSize> ms_{};
  std::atomic<std::uint32_t> count_{0};
};

}  // namespace sluice::proxy
