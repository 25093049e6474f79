// first: the member with the lowest server id that still has a free slot.
// Weights are ignored (except that weight 0 is never picked), as in HAProxy.
#include <algorithm>

#include "lb/algorithms.h"

namespace sluice::lb {

namespace {

class First final : public Algorithm {
 public:
  void set_members(std::span<const Member> members) override {
    members_ = pickable(members);
    std::stable_sort(members_.begin(), members_.end(),
                     [](const Member& a, const Member& b) { return a.id < b.id; });
  }

  std::optional<std::uint32_t> pick(const PickInput&, const LoadView& load) override {
    for (const auto& m : members_)
      if (!load.full(m.index)) return m.index;
    return std::nullopt;
  }

 private:
  std::vector<Member> members_;
};

}  // namespace

AlgorithmPtr make_first() {
  return std::make_unique<First>();
}

}  // namespace sluice::lb
