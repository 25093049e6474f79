// random(draws): "power of n random choices". Each draw is a random key on the
// consistent-hash ring, so draws follow the weights and new members take
// effect at once; the least loaded ((conns + 1) / weight) of the drawn members
// that are not full wins. If every draw is full, the least loaded free member
// is used; nothing when all are full.
#include "lb/algorithms.h"
#include "lb/hash_ring.h"

namespace sluice::lb {

namespace {

class Random final : public Algorithm {
 public:
  Random(std::uint32_t draws, std::uint64_t seed) : draws_(draws == 0 ? 1 : draws), state_(seed) {}

  void set_members(std::span<const Member> members) override {
    members_ = pickable(members);
    ring_.build(members_);
  }

  std::optional<std::uint32_t> pick(const PickInput&, const LoadView& load) override {
    if (ring_.empty()) return std::nullopt;
    const Member* best = nullptr;
    std::uint32_t best_conns = 0;
    for (std::uint32_t d = 0; d < draws_; ++d) {
      const auto& m = members_[ring_.lookup(static_cast<std::uint32_t>(next() >> 32))];
      if (load.full(m.index)) continue;
      const auto conns = load.connections(m.index);
      if (best == nullptr || less_loaded(conns, m.weight, best_conns, best->weight)) {
        best = &m;
        best_conns = conns;
      }
    }
    if (best == nullptr) {
      for (const auto& m : members_) {
        if (load.full(m.index)) continue;
        const auto conns = load.connections(m.index);
        if (best == nullptr || less_loaded(conns, m.weight, best_conns, best->weight)) {
          best = &m;
          best_conns = conns;
        }
      }
    }
    if (best == nullptr) return std::nullopt;
    return best->index;
  }

 private:
  // splitmix64: tiny, per-instance (per thread), good enough for balancing.
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint32_t draws_;
  std::uint64_t state_;
  std::vector<Member> members_;
  HashRing ring_;
};

}  // namespace

AlgorithmPtr make_random(std::uint32_t draws, std::uint64_t seed) {
  return std::make_unique<Random>(draws, seed);
}

}  // namespace sluice::lb
