#pragma once
// A weight-expanded, interleaved schedule: slot s appears weight[s]/g times
// (g = gcd of the weights) in an order that spreads each slot evenly
// (earliest-deadline-first on 1/weight). static-rr walks it; map-based
// hashing indexes it with hash % size.

#include <cstdint>
#include <span>
#include <vector>

namespace sluice::lb {

// Fixed-point virtual time unit: a member of weight w is due every kTimeScale / w.
inline constexpr std::uint64_t kTimeScale = std::uint64_t{1} << 32;

std::vector<std::uint32_t> build_smooth_table(std::span<const std::uint32_t> weights);

}  // namespace sluice::lb
