// leastconn: the member with the lowest (connections + 1) / weight. Ties are
// broken by a rotating start so that equally loaded servers share the work
// (HAProxy's "round-robin within groups of the same load"). The runtime may
// count queued connections in LoadView::connections, as HAProxy does.
//
// O(n) per pick: LoadView is read-only and has no change notifications, so no
// ordered structure can be kept up to date here without locks.
#include "lb/algorithms.h"

namespace sluice::lb {

namespace {

class LeastConn final : public Algorithm {
 public:
  void set_members(std::span<const Member> members) override {
    members_ = pickable(members);
    cursor_ = 0;
  }

  std::optional<std::uint32_t> pick(const PickInput&, const LoadView& load) override {
    const std::size_t n = members_.size();
    std::size_t best = n;
    std::uint32_t best_conns = 0;
    std::size_t pos = cursor_;
    for (std::size_t k = 0; k < n; ++k, pos = pos + 1 == n ? 0 : pos + 1) {
      const auto& m = members_[pos];
      if (load.full(m.index)) continue;
      const auto conns = load.connections(m.index);
      if (best == n || less_loaded(conns, m.weight, best_conns, members_[best].weight)) {
        best = pos;
        best_conns = conns;
      }
    }
    if (best == n) return std::nullopt;
    cursor_ = best + 1 == n ? 0 : best + 1;
    return members_[best].index;
  }

 private:
  std::vector<Member> members_;
  std::size_t cursor_ = 0;
};

}  // namespace

AlgorithmPtr make_leastconn() {
  return std::make_unique<LeastConn>();
}

}  // namespace sluice::lb
