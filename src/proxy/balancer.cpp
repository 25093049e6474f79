#include "proxy/balancer.h"

namespace sluice::proxy {

std::vector<lb::Member> usable_members(const Backend& be) {
  std::vector<lb::Member> active, backup;
  for (const auto& s : be.servers()) {
    if (!s->usable()) continue;
    lb::Member m{s->index(), static_cast<std::uint32_t>(s->def().id), s->weight()};
    (s->backup() ? backup : active).push_back(m);
  }
  if (!active.empty()) return active;
  if (backup.empty() || be.def().allbackups) return backup;
  const lb::Member* first = &backup.front();
  for (const auto& m : backup)
    if (m.id < first->id) first = &m;
  return {*first};
}

ThreadBalancer::ThreadBalancer(Backend& be) : be_(be), load_(be) {}

void ThreadBalancer::refresh() {
  gen_ = be_.generation();
  if (!algo_) algo_ = lb::make_algorithm(be_.def().balance);
  using A = config::BalanceAlgo;
  A a = be_.def().balance.algo;
  hash_ = a == A::Source || a == A::Uri || a == A::UrlParam || a == A::Hdr;
  std::vector<lb::Member> members = usable_members(be_);
  members_ = members.size();
  if (algo_) algo_->set_members(members);
}

ThreadBalancer::Outcome ThreadBalancer::pick(const lb::PickInput& in, Server*& out) {
  out = nullptr;
  if (gen_ != be_.generation()) refresh();
  if (members_ == 0 || !algo_) return Outcome::NoServer;
  // Another thread can take the last slot between pick and acquire: retry a
  // few times, then treat the backend as full.
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::optional<std::uint32_t> idx = algo_->pick(in, load_);
    if (!idx || *idx >= be_.servers().size()) return Outcome::AllFull;
    Server& s = *be_.servers()[*idx];
    if (s.try_acquire()) {
      out = &s;
      s.counters().lbtot.fetch_add(1, std::memory_order_relaxed);
      return Outcome::Picked;
    }
    if (hash_) {
      out = &s;
      return Outcome::ServerFull;
    }
  }
  return Outcome::AllFull;
}

}  // namespace sluice::proxy
