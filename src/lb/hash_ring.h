#pragma once
// Consistent-hash ring: each member owns weight * points_per_weight points
// placed by a well-mixing hash of (member id, point number), so a member's
// points never depend on the other members. A key belongs to the first point
// at or after its hash (wrapping). Adding a member therefore only moves keys
// to that member, about weight/total_weight of them.

#include <cstdint>
#include <span>
#include <vector>

#include "lb/algorithm.h"

namespace sluice::lb {

class HashRing {
 public:
  // Enough points per weight unit that a member's share of the ring is within
  // a few percent of its weight share; capped so huge farms stay in memory.
  static constexpr std::uint32_t kPointsPerWeight = 100;
  static constexpr std::uint64_t kMaxPoints = std::uint64_t{1} << 22;

  // Slot numbers are positions in `members`. Members of weight 0 get no point.
  void build(std::span<const Member> members);
  bool empty() const { return hashes_.empty(); }
  // Slot owning `hash`. Precondition: !empty().
  std::uint32_t lookup(std::uint32_t hash) const;
  // The ring walked from `hash`: the point owning it, then the following ones.
  std::size_t point_of(std::uint32_t hash) const;
  std::size_t points() const { return hashes_.size(); }
  std::uint32_t slot_at(std::size_t point) const { return slots_[point % slots_.size()]; }

 private:
  std::vector<std::uint32_t> hashes_;  // sorted
  std::vector<std::uint32_t> slots_;   // parallel to hashes_
};

// The stable identity a member hashes its points with: its id (puid) when set.
inline std::uint32_t ring_identity(const Member& m) {
  return m.id != 0 ? m.id : (m.index | 0x80000000U);
}

}  // namespace sluice::lb
