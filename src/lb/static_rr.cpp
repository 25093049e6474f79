// static-rr: weighted round robin over a precomputed interleaved table, O(1)
// per pick. As in HAProxy it is "static": the table is rebuilt only when the
// member set changes (the runtime API should refuse weight changes other than
// to/from 0 for it), and unlike roundrobin it has no limit on the number of
// servers (HAProxy's roundrobin is limited to 4095; neither of ours is).
#include "lb/algorithms.h"
#include "lb/smooth_table.h"

namespace sluice::lb {

namespace {

class StaticRr final : public Algorithm {
 public:
  void set_members(std::span<const Member> members) override {
    members_ = pickable(members);
    std::vector<std::uint32_t> weights;
    weights.reserve(members_.size());
    for (const auto& m : members_) weights.push_back(m.weight);
    table_ = build_smooth_table(weights);
    cursor_ = 0;
  }

  std::optional<std::uint32_t> pick(const PickInput&, const LoadView& load) override {
    const std::size_t n = table_.size();
    for (std::size_t tried = 0; tried < n; ++tried) {
      const auto& m = members_[table_[cursor_]];
      cursor_ = cursor_ + 1 == n ? 0 : cursor_ + 1;
      if (!load.full(m.index)) return m.index;
      // One full member: make sure somebody is free before walking the table.
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

  std::vector<Member> members_;
  std::vector<std::uint32_t> table_;
  std::size_t cursor_ = 0;
};

}  // namespace

AlgorithmPtr make_static_rr() {
  return std::make_unique<StaticRr>();
}

}  // namespace sluice::lb
