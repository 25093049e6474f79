#include "lb/hash_ring.h"

#include <algorithm>
#include <tuple>

namespace sluice::lb {

namespace {

// splitmix64's finaliser: every input bit affects every output bit.
std::uint32_t point_hash(std::uint32_t identity, std::uint32_t point) {
  std::uint64_t z = (std::uint64_t{identity} << 32) | point;
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<std::uint32_t>(z >> 32);
}

}  // namespace

void HashRing::build(std::span<const Member> members) {
  std::uint64_t total_weight = 0;
  for (const auto& m : members) total_weight += m.weight;
  std::uint64_t per_weight = HashRing::kPointsPerWeight;
  if (total_weight * per_weight > kMaxPoints)
    per_weight = std::max<std::uint64_t>(1, kMaxPoints / std::max<std::uint64_t>(1, total_weight));

  struct Point {
    std::uint32_t hash;
    std::uint32_t identity;
    std::uint32_t slot;
  };
  std::vector<Point> points;
  points.reserve(total_weight * per_weight);
  for (std::uint32_t s = 0; s < members.size(); ++s) {
    const auto id = ring_identity(members[s]);
    const auto n = members[s].weight * per_weight;
    for (std::uint64_t p = 0; p < n; ++p)
      points.push_back({point_hash(id, static_cast<std::uint32_t>(p)), id, s});
  }
  // Identity breaks hash ties so the ring does not depend on member order.
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    return std::tie(a.hash, a.identity) < std::tie(b.hash, b.identity);
  });
  hashes_.clear();
  slots_.clear();
  hashes_.reserve(points.size());
  slots_.reserve(points.size());
  for (const auto& p : points) {
    hashes_.push_back(p.hash);
    slots_.push_back(p.slot);
  }
}

std::size_t HashRing::point_of(std::uint32_t hash) const {
  auto it = std::lower_bound(hashes_.begin(), hashes_.end(), hash);
  if (it == hashes_.end()) it = hashes_.begin();
  return static_cast<std::size_t>(it - hashes_.begin());
}

std::uint32_t HashRing::lookup(std::uint32_t hash) const {
  auto it = std::lower_bound(hashes_.begin(), hashes_.end(), hash);
  if (it == hashes_.end()) it = hashes_.begin();
  return slots_[static_cast<std::size_t>(it - hashes_.begin())];
}

}  // namespace sluice::lb
