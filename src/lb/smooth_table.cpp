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

void SmoothRotation::set(std::span<const Member> members) {
  members_.assign(members.begin(), members.end());
  std::vector<std::uint32_t> weights;
  weights.reserve(members_.size());
  for (const auto& m : members_) weights.push_back(m.weight);
  table_ = build_smooth_table(weights);
  cursor_ = 0;
}

std::optional<std::uint32_t> SmoothRotation::next(const LoadView& load) {
  const std::size_t n = table_.size();
  for (std::size_t tried = 0; tried < n; ++tried) {
    const auto& m = members_[table_[cursor_]];
    cursor_ = cursor_ + 1 == n ? 0 : cursor_ + 1;
    if (!load.full(m.index)) return m.index;
    // One full member: make sure somebody is free before walking the table.
    if (tried == 0) {
      bool any_free = false;
      for (const auto& o : members_) any_free = any_free || !load.full(o.index);
      if (!any_free) return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace sluice::lb
