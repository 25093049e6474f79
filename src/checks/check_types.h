#pragma once
// Check statuses and results: the one table that logs, stats CSV and
// Prometheus read. Light header (HAProxy's *-t.h idea): no sockets.

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::checks {

enum class CheckStatus : std::uint8_t {
  Unknown,  // UNK: never checked
  Init,  // INI: first check pending
  SockErr,  // SOCKERR: could not even create/bind the socket
  L4Ok,  // L4OK: connect succeeded (plain TCP check passed)
  L4Tout,  // L4TOUT: connect timed out
  L4Con,  // L4CON: connect refused / unreachable / reset
};

struct CheckStatusInfo {
  CheckStatus status;
  std::string_view name;  // as in the stats CSV check_status column
  std::string_view reason;  // as in "reason: ..." of state-change logs
  bool passed;
};

const CheckStatusInfo& status_info(CheckStatus s);

struct CheckResult {
  CheckStatus status = CheckStatus::Unknown;
  std::int64_t duration_ms = 0;
  std::string info;  // "Connection refused"; empty when none
  bool passed() const { return status_info(status).passed; }
};

}  // namespace sluice::checks
