#include "lb/smooth_table.h"

#include <numeric>
#include <queue>
#include <utility>

namespace sluice::lb {

std::vector<std::uint32_t> build_smooth_table(std::span<const std::uint32_t> weights) {
  std::uint32_t g = 0;
  std::uint64_t total = 0;
  for (auto w : weights) {
    g = std::gcd(g, w);
    total += w;
  }
  std::vector<std::uint32_t> table;
  if (g == 0) return table;
  total /= g;
  table.reserve(total);

  // (deadline, slot), smallest first; ties go to the lower slot.
  using Due = std::pair<std::uint64_t, std::uint32_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due;
  std::vector<std::uint64_t> step(weights.size(), 0);
  for (std::uint32_t s = 0; s < weights.size(); ++s) {
    if (weights[s] == 0) continue;
    step[s] = kTimeScale / (weights[s] / g);
    due.emplace(step[s] / 2, s);
  }
  while (table.size() < total) {
    auto [deadline, s] = due.top();
    due.pop();
    table.push_back(s);
    due.emplace(deadline + step[s], s);
  }
  return table;
}

}  // namespace sluice::lb
