// roundrobin: dynamic, smooth weighted round robin.
//
// Earliest-deadline-first on virtual time: a member of weight w is due every
// kTimeScale / w; the member due first is picked and its deadline advances.
// This interleaves (weights 3,1 give a a b a a a b ...) rather than bursting,
// costs O(log n) per pick (a binary heap held in preallocated vectors), and
// lets set_members change weights without restarting the rotation.
#include <algorithm>
#include <unordered_map>

#include "lb/algorithms.h"
#include "lb/smooth_table.h"

namespace sluice::lb {

namespace {

class RoundRobin final : public Algorithm {
  struct Slot;

  // Heap order: the top is the earliest deadline, lower slot on ties.
  struct Later {
    const std::vector<Slot>* slots;
    bool operator()(std::uint32_t a, std::uint32_t b) const {
      const auto da = (*slots)[a].deadline;
      const auto db = (*slots)[b].deadline;
      return da != db ? da > db : a > b;
    }
  };
  Later later() const { return Later{&slots_}; }

 public:
  void set_members(std::span<const Member> members) override {
    std::unordered_map<std::uint32_t, Slot> previous;
    for (const auto& s : slots_) previous.emplace(s.member.index, s);
    slots_.clear();
    for (const auto& m : pickable(members)) {
      Slot s{m, kTimeScale / m.weight, 0};
      auto it = previous.find(m.index);
      if (it != previous.end()) {
        // Keep the member's place in the rotation, rescaled to its new weight.
        const auto& old = it->second;
        const double remaining = old.deadline > now_ ? double(old.deadline - now_) : 0.0;
        s.deadline =
            now_ + static_cast<std::uint64_t>(remaining * double(s.step) / double(old.step));
      } else {
        s.deadline = now_ + s.step / 2;
      }
      slots_.push_back(s);
    }
    heap_.clear();
    heap_.reserve(slots_.size());
    skipped_.clear();
    skipped_.reserve(slots_.size());
    for (std::uint32_t i = 0; i < slots_.size(); ++i) heap_.push_back(i);
    std::make_heap(heap_.begin(), heap_.end(), later());
  }

  std::optional<std::uint32_t> pick(const PickInput&, const LoadView& load) override {
    std::optional<std::uint32_t> chosen;
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), later());
      const auto s = heap_.back();
      heap_.pop_back();
      if (load.full(slots_[s].member.index)) {
        skipped_.push_back(s);
        continue;
      }
      now_ = slots_[s].deadline;
      slots_[s].deadline += slots_[s].step;
      heap_.push_back(s);
      std::push_heap(heap_.begin(), heap_.end(), later());
      chosen = slots_[s].member.index;
      break;
    }
    // Full members keep their turn but do not bank the turns they missed,
    // so they get no burst when they free up.
    for (auto s : skipped_) {
      slots_[s].deadline = std::max(slots_[s].deadline, now_);
      heap_.push_back(s);
      std::push_heap(heap_.begin(), heap_.end(), later());
    }
    skipped_.clear();
    if (now_ > kRebase) rebase();
    return chosen;
  }

 private:
  struct Slot {
    Member member;
    std::uint64_t step = 0;
    std::uint64_t deadline = 0;
  };
  static constexpr std::uint64_t kRebase = std::uint64_t{1} << 62;

  // Keep virtual time far from overflow (after ~2^30 picks of a weight-1 member).
  void rebase() {
    for (auto& s : slots_) s.deadline = s.deadline > now_ ? s.deadline - now_ : 0;
    now_ = 0;
  }

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> heap_;
  std::vector<std::uint32_t> skipped_;
  std::uint64_t now_ = 0;
};

}  // namespace

std::vector<Member> pickable(std::span<const Member> members) {
  std::vector<Member> out;
  out.reserve(members.size());
  for (const auto& m : members)
    if (m.weight > 0) out.push_back(m);
  return out;
}

AlgorithmPtr make_roundrobin() {
  return std::make_unique<RoundRobin>();
}

}  // namespace sluice::lb
