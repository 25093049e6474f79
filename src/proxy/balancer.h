#pragma once
// A backend as one worker thread sees it for balancing: its own lb::Algorithm
// instance over the usable servers, rebuilt when the backend's generation
// moves. Live load (connections, maxconn) is read from the servers' atomics.

#include <cstdint>
#include <vector>

#include "lb/algorithm.h"
#include "proxy/backend.h"

namespace sluice::proxy {

// Which servers a backend balances over right now: usable active servers,
// else the first usable backup (lowest id), or every usable backup with
// `option allbackups`. Pure: used by the balancer and by tests.
std::vector<lb::Member> usable_members(const Backend& be);

class ThreadBalancer {
 public:
  explicit ThreadBalancer(Backend& be);

  enum class Outcome { Picked, ServerFull, AllFull, NoServer };
  // Picked: `out` holds a server whose slot was acquired for the caller.
  // ServerFull: a hash algorithm chose `out`, which is at its maxconn (the
  // caller waits in that server's queue, as HAProxy does).
  Outcome pick(const lb::PickInput& in, Server*& out);

  Backend& backend() const { return be_; }

 private:
  class Load final : public lb::LoadView {
   public:
    explicit Load(const Backend& be) : be_(be) {}
    std::uint32_t connections(std::uint32_t index) const override {
      return be_.servers()[index]->connections();
    }
    bool full(std::uint32_t index) const override { return be_.servers()[index]->full(); }

   private:
    const Backend& be_;
  };

  void refresh();

  Backend& be_;
  Load load_;
  std::uint64_t gen_ = 0;
  lb::AlgorithmPtr algo_;
  std::size_t members_ = 0;
  bool hash_ = false;
};

}  // namespace sluice::proxy
