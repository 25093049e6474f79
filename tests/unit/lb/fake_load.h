#pragma once
// A LoadView the tests drive by hand.

#include <vector>

#include "lb/algorithm.h"

namespace sluice::lb::testing {

class FakeLoad final : public LoadView {
 public:
  explicit FakeLoad(std::size_t n = 64) : conns(n, 0), is_full(n, false) {}
  std::uint32_t connections(std::uint32_t index) const override { return conns.at(index); }
  bool full(std::uint32_t index) const override { return is_full.at(index); }

  std::vector<std::uint32_t> conns;
  std::vector<bool> is_full;
};

// Members with index i, id i + 1 and the given weights.
inline std::vector<Member> members_with_weights(const std::vector<std::uint32_t>& weights) {
  std::vector<Member> out;
  for (std::uint32_t i = 0; i < weights.size(); ++i) out.push_back({i, i + 1, weights[i]});
  return out;
}

}  // namespace sluice::lb::testing
