#pragma once
// Check statuses and results: the one table that logs, stats CSV and
// Prometheus read. Light header (HAProxy's *-t.h idea): no sockets.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sluice::checks {

// Order is the table's order (check_types.cpp); append only.
enum class CheckStatus : std::uint8_t {
  Unknown,  // UNK: never checked
  Init,  // INI: first check pending
  SockErr,  // SOCKERR: could not even create/bind the socket
  L4Ok,  // L4OK: connect succeeded (plain TCP check passed)
  L4Tout,  // L4TOUT: connect timed out
  L4Con,  // L4CON: connect refused / unreachable / reset
  L6Ok,  // L6OK: layer 6 (SSL hello) answer valid
  L6Tout,  // L6TOUT: no layer 6 answer in time
  L6Rsp,  // L6RSP: invalid layer 6 answer
  L7Tout,  // L7TOUT: no layer 7 answer in time
  L7Rsp,  // L7RSP: invalid / unexpected layer 7 answer
  L7Ok,  // L7OK: layer 7 check passed
  L7OkC,  // L7OKC: passed conditionally (disable-on-404): server goes to drain
  L7Sts,  // L7STS: layer 7 answer with a failing status
  Hana,  // HANA: passive health analysis (observe)
};

// What a result means for the server, as HAProxy's CHK_RES_*.
enum class CheckOutcome : std::uint8_t { Neutral, Failed, Passed, CondPass };

struct CheckStatusInfo {
  CheckStatus status;
  std::string_view name;  // as in the stats CSV check_status column
  std::string_view reason;  // as in "reason: ..." of state-change logs
  CheckOutcome outcome;
  bool passed;  // Passed or CondPass
  bool has_code;  // the result carries a protocol code (HTTP, SMTP, MySQL...)
};

const CheckStatusInfo& status_info(CheckStatus s);
std::span<const CheckStatusInfo> status_table();

struct CheckResult {
  CheckStatus status = CheckStatus::Unknown;
  std::int64_t duration_ms = 0;
  int code = 0;  // HTTP status, SMTP reply, MySQL error number; 0 when none
  std::string info;  // "Connection refused"; empty when none
  bool report_code = false;
  // Passive health: the server's sessions when the error was seen (the
  // log's "N sessions active"); -1: count them when logging.
  int active_sessions = -1;  // log "code: N" even when 0 (agent results, as HAProxy)
  bool passed() const { return status_info(status).passed; }
  bool conditional() const { return status == CheckStatus::L7OkC; }
};

}  // namespace sluice::checks
