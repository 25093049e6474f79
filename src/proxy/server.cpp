#include "proxy/server.h"

#include <ctime>

namespace sluice::proxy {

Server::Server(const config::ServerDef& def, Backend& backend, std::uint32_t index)
    : def_(def), backend_(backend), index_(index), weight_(def.weight) {
  if (def.disabled) admin_.store(kAdminMaint);
  check_.last_change_s.store(static_cast<std::int64_t>(std::time(nullptr)));
  if (def.check) check_.status.store(checks::CheckStatus::Init);
}

bool Server::try_acquire() {
  if (def_.maxconn == 0) {
    cur_.fetch_add(1, std::memory_order_seq_cst);
    return true;
  }
  std::uint32_t c = cur_.load(std::memory_order_seq_cst);
  while (c < def_.maxconn) {
    if (cur_.compare_exchange_weak(c, c + 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

}  // namespace sluice::proxy
