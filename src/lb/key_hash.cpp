// source, uri, url_param, hdr: hash PickInput::key and map it to a member.
//
//  map-based   member = table[hash % size] over the interleaved weight table:
//              smooth, but most keys move when the member set changes.
//  consistent  member = owner of hash on the HashRing: only about
//              weight/total of the keys move when a member comes or goes.
//
// As in HAProxy, the hashed member is returned even when it is full: the
// caller queues the request on that server, which keeps the stickiness the
// operator chose hashing for. Without a key (no source address, header
// absent...) the pick falls back to weighted round robin, skipping full members.
#include <algorithm>

#include "lb/algorithms.h"
#include "lb/hash_ring.h"
#include "lb/smooth_table.h"

namespace sluice::lb {

namespace {

class KeyHash final : public Algorithm {
 public:
  KeyHash(config::HashType type, KeyHasher hasher, unsigned factor)
      : type_(type), hasher_(hasher), factor_(factor) {}

  void set_members(std::span<const Member> members) override {
    rotation_.set(pickable(members));
    if (type_ == config::HashType::Consistent) ring_.build(rotation_.members());
  }

  std::optional<std::uint32_t> pick(const PickInput& in, const LoadView& load) override {
    if (rotation_.empty()) return std::nullopt;
    if (in.key) {
      const auto h = hasher_(*in.key);
      if (type_ == config::HashType::Consistent) {
        if (factor_ == 0) return rotation_.members()[ring_.lookup(h)].index;
        return bounded(h, load);
      }
      return rotation_.at(h);
    }
    return rotation_.next(load);
  }

 private:
  // Bounded loads: the first member on the ring from the key whose load,
  // with this request, stays within factor% of its weighted share.
  std::uint32_t bounded(std::uint32_t h, const LoadView& load) const {
    const auto& ms = rotation_.members();
    std::uint64_t total = 0, weights = 0;
    for (const auto& m : ms) {
      total += load.connections(m.index);
      weights += m.weight;
    }
    const std::size_t start = ring_.point_of(h);
    const std::size_t limit = std::min<std::size_t>(ring_.points(), 64 * ms.size());
    for (std::size_t i = 0; i < limit; ++i) {
      const Member& m = ms[ring_.slot_at(start + i)];
      // allowed = ceil((total + 1) * factor / 100 * weight / weights)
      const std::uint64_t num = (total + 1) * factor_ * m.weight;
      const std::uint64_t den = 100 * std::max<std::uint64_t>(weights, 1);
      const std::uint64_t allowed = (num + den - 1) / den;
      if (std::uint64_t{load.connections(m.index)} + 1 <= allowed) return m.index;
    }
    return ms[ring_.slot_at(start)].index;
  }

  config::HashType type_;
  KeyHasher hasher_;
  unsigned factor_ = 0;
  SmoothRotation rotation_;
  HashRing ring_;
};

}  // namespace

AlgorithmPtr make_key_hash(config::HashType type, KeyHasher hasher, unsigned balance_factor) {
  return std::make_unique<KeyHash>(type, hasher, balance_factor);
}

}  // namespace sluice::lb
