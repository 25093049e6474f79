#include "proxy/server.h"

#include <algorithm>
#include <ctime>

namespace sluice::proxy {

Server::Server(const config::ServerDef& def, Backend& backend, std::uint32_t index)
    : def_(def),
      backend_(backend),
      index_(index),
      weight_(def.weight),
      uweight_(def.weight),
      maxconn_(def.maxconn),
      addr_(&def.addr) {
  if (def.disabled) admin_.store(kAdminMaint);
  check_.last_change_s.store(static_cast<std::int64_t>(std::time(nullptr)));
  if (def.check)
    check_.status.store(checks::CheckStatus::Init);
  else
    check_.health.store(def.rise);  // haproxy's srv_check_health of an unchecked server
  if (def.agent_check) {
    agent_.status.store(checks::CheckStatus::Init);
    local_.agent_health.emplace(def.rise, def.fall);
    agent_.health.store(local_.agent_health->health());
  }
}

bool Server::update_weight(std::int64_t now_ms) {
  std::uint32_t u = uweight();
  std::uint32_t w = u;
  std::int64_t ss = def_.slowstart.count();
  const std::int64_t warm_start = local_.warm_start_ms.load(std::memory_order_relaxed);
  if (warm_start >= 0 && ss > 0) {
    std::int64_t elapsed = now_ms - warm_start;
    if (elapsed >= ss) {
      local_.warm_start_ms = -1;
    } else if (u > 0) {
      // Linear from 1 to the full weight over `slowstart`.
      std::int64_t ramp =
          (static_cast<std::int64_t>(u) * std::max<std::int64_t>(0, elapsed) + ss - 1) / ss;
      w = static_cast<std::uint32_t>(std::max<std::int64_t>(1, ramp));
    }
  }
  if (w == weight()) return false;
  set_weight(w);
  return true;
}

namespace {
// Per observed event: 0 ignore, 1 error, 2 good; for layer4 and layer7.
struct ObservedKind {
  const char* name;
  std::uint8_t verdict[2];
};
constexpr ObservedKind kObserved[] = {
    {"L4 successful connection", {2, 0}},
    {"L4 unsuccessful connection", {1, 1}},
    {"Correct http response", {0, 2}},
    {"Wrong http response", {0, 1}},
    {"Invalid http response (headers)", {0, 1}},
    {"Invalid http response", {0, 1}},
    {"Read error (http)", {0, 1}},
    {"Read timeout (http)", {0, 1}},
    {"Close from server (http)", {0, 1}},
};
}  // namespace

const char* observed_name(Observed o) {
  return kObserved[static_cast<unsigned>(o)].name;
}

void Server::observe_slow(Observed o) {
  unsigned layer = def_.observe == config::ServerDef::Observe::Layer4 ? 0 : 1;
  std::uint8_t v = kObserved[static_cast<unsigned>(o)].verdict[layer];
  if (v == 0) return;
  if (v == 2) {
    reset_observed_errors();
    return;
  }
  std::uint32_t n = errors_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (n < def_.error_limit) return;
  // One session takes the limit: it resets the count and tells the check.
  if (!errors_.compare_exchange_strong(n, 0, std::memory_order_acq_rel)) return;
  hanafail_.fetch_add(1, std::memory_order_relaxed);
  if (ObserveSink* s = sink_.load(std::memory_order_acquire)) s->on_observed_errors(o, n);
}

void Server::set_addr(const config::Address& a) {
  std::lock_guard<std::mutex> g(addrs_mu_);
  addrs_.push_back(a);
  addr_.store(&addrs_.back(), std::memory_order_release);
}

bool Server::try_acquire() {
  const unsigned limit = maxconn();
  if (limit == 0) {
    cur_.fetch_add(1, std::memory_order_seq_cst);
    return true;
  }
  std::uint32_t c = cur_.load(std::memory_order_seq_cst);
  while (c < limit) {
    if (cur_.compare_exchange_weak(c, c + 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

}  // namespace sluice::proxy
