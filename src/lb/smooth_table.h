#pragma once
// A weight-expanded, interleaved schedule: slot s appears weight[s]/g times
// (g = gcd of the weights) in an order that spreads each slot evenly
// (earliest-deadline-first on 1/weight). static-rr walks it; map-based
// hashing indexes it with hash % size.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lb/algorithm.h"

namespace sluice::lb {

// Fixed-point virtual time unit: a member of weight w is due every kTimeScale / w.
inline constexpr std::uint64_t kTimeScale = std::uint64_t{1} << 32;

std::vector<std::uint32_t> build_smooth_table(std::span<const std::uint32_t> weights);

// Weighted round robin over the smooth table of a member set: static-rr, and
// the fallback of the hashing algorithms when there is no key.
class SmoothRotation {
 public:
  // `members` must already be pickable (weight > 0).
  void set(std::span<const Member> members);
  // The next member in the rotation that is not full; nothing when all are.
  std::optional<std::uint32_t> next(const LoadView& load);
  // The member at table slot `hash % size` (map-based hashing); the table
  // must not be empty.
  std::uint32_t at(std::uint64_t hash) const { return members_[table_[hash % table_.size()]].index; }
  bool empty() const { return table_.empty(); }
  std::span<const Member> members() const { return members_; }

 private:
  std::vector<Member> members_;
  std::vector<std::uint32_t> table_;
  std::size_t cursor_ = 0;
};

}  // namespace sluice::lb
