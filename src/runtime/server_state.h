#pragma once
// The server state file (`server-state-file`, `load-server-state-from-file`):
// the text `show servers state` writes (format version 1), read back at
// start-up so that what operators set at runtime (maintenance, drain, weight,
// address) and what checks learned (UP/DOWN) outlive a reload or restart.
// As in HAProxy, a line is applied to the server of the same backend name and
// server name. A corrupted file is ignored whole (as haproxy does) with a
// warning; nothing in it is ever fatal.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "proxy/backend.h"
#include "util/result.h"

namespace sluice::runtime {

// One line of format 1 (columns of management.txt "show servers state").
struct ServerStateLine {
  std::int64_t be_id = 0;
  std::string be_name;
  std::int64_t srv_id = 0;
  std::string srv_name;
  std::string srv_addr;  // an IP, or "-"
  int op_state = 0;      // 0 stopped, 1 starting, 2 running, 3 stopping
  int admin_state = 0;   // 0x01 forced maint, 0x02 inherited maint, 0x04 config maint,
                         // 0x08 forced drain, 0x10 inherited drain, 0x20 resolution maint
  std::uint32_t uweight = 0;
  std::uint32_t iweight = 0;
  std::int64_t since_last_change = 0;
  int check_status = 0;
  int check_result = 0;
  unsigned check_health = 0;
  int check_state = 0;
  int agent_state = 0;
  bool bk_forced_id = false;
  bool srv_forced_id = false;
  std::string fqdn;  // "-" when none
  int port = 0;
};

// Admin state bits of the file.
inline constexpr int kStateForcedMaint = 0x01;
inline constexpr int kStateConfigMaint = 0x04;
inline constexpr int kStateForcedDrain = 0x08;

// Parses one data line (not the version line, not a comment).
Result<ServerStateLine> parse_server_state_line(std::string_view line);

struct ServerStateFile {
  std::vector<ServerStateLine> lines;
  std::vector<std::string> warnings;  // "FILE:LINE: why"; lines empty then
};
// Parses a whole file: version line "1", '#' comments, data lines.
ServerStateFile parse_server_state_file(std::string_view text, std::string_view name);

// Applies one line to its server (found by the caller); warnings explain
// what was not applied.
void apply_server_state(proxy::Backend& be, proxy::Server& s, const ServerStateLine& line,
                        std::int64_t now_wall_s, std::vector<std::string>& warnings);

// The path a backend loads from (empty for none): `server-state-file` for
// `global`, `server-state-file-name` (or the backend's name) for `local`,
// relative names under `server-state-base`.
std::string server_state_path(const config::Global& g, const config::Proxy& p);
// The global file's path (empty when none is configured).
std::string global_server_state_path(const config::Global& g);

// Reads the files the backends ask for and applies them (before checks
// start). Returns the warnings, one per problem.
std::vector<std::string> load_server_states(const config::Global& g,
                                            const std::vector<proxy::Backend*>& backends);

}  // namespace sluice::runtime
