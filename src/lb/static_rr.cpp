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
    rotation_.set(pickable(members));
  }

  std::optional<std::uint32_t> pick(const PickInput&, const LoadView& load) override {
    return rotation_.next(load);
  }

 private:
  SmoothRotation rotation_;
};

}  // namespace

AlgorithmPtr make_static_rr() {
  return std::make_unique<StaticRr>();
}

}  // namespace sluice::lb
