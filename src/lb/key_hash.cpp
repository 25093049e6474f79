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
    members_ = pickable(members);
    std::vector<std::uint32_t> weights;
    weights.reserve(members_.size());
    for (const auto& m : members_) weights.push_back(m.weight);
    table_ = build_smooth_table(weights);
    cursor_ = 0;
    if (type_ == config::HashType::Consistent) ring_.build(members_);
  }

  std::optional<std::uint32_t> pick(const PickInput& in, const LoadView& load) override {
    if (table_.empty()) return std::nullopt;
    if (in.key) {
      const auto h = hasher_(*in.key);
      const auto slot =
          type_ == config::HashType::Consistent ? ring_.lookup(h) : table_[h % table_.size()];
      return members_[slot].index;
    }
    const std::size_t n = table_.size();
    for (std::size_t tried = 0; tried < n; ++tried) {
      const auto& m = members_[table_[cursor_]];
      cursor_ = cursor_ + 1 == n ? 0 : cursor_ + 1;
      if (!load.full(m.index)) return m.index;
      if (tried == 0 && !any_free(load)) return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  bool any_free(const LoadView& load) const {
    for (const auto& m : members_)
      if (!load.full(m.index)) return true;
    return false;
  }

  config::HashType type_;
  KeyHasher hasher_;
  std::vector<Member> members_;
  std::vector<std::uint32_t> table_;
  std::size_t cursor_ = 0;
  HashRing ring_;
};

}  // namespace

AlgorithmPtr make_key_hash(config::HashType type, KeyHasher hasher) {
  return std::make_unique<KeyHash>(type, hasher);
}

}  // namespace sluice::lb
