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
#include "lb/algorithms.h"
#include "lb/hash_ring.h"
#include "lb/smooth_table.h"

namespace sluice::lb {

namespace {

class KeyHash final : public Algorithm {
 public:
  KeyHash(config::HashType type, KeyHasher hasher) : type_(type), hasher_(hasher) {}

  void set_members(std::span<const Member> members) override {
    rotation_.set(pickable(members));
    if (type_ == config::HashType::Consistent) ring_.build(rotation_.members());
  }

  std::optional<std::uint32_t> pick(const PickInput& in, const LoadView& load) override {
    if (rotation_.empty()) return std::nullopt;
    if (in.key) {
      const auto h = hasher_(*in.key);
      if (type_ == config::HashType::Consistent) return rotation_.members()[ring_.lookup(h)].index;
      return rotation_.at(h);
    }
    return rotation_.next(load);
  }

 private:
  config::HashType type_;
  KeyHasher hasher_;
  SmoothRotation rotation_;
  HashRing ring_;
};

}  // namespace

AlgorithmPtr make_key_hash(config::HashType type, KeyHasher hasher) {
  return std::make_unique<KeyHash>(type, hasher);
}

}  // namespace sluice::lb
