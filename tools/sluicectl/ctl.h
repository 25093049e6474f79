// sluicectl's pure parts: parsing `show stat` CSV, building a rolling plan,
// substituting the --exec template. No I/O here, so they are unit-tested.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluicectl {

// One line of `show stat` CSV, by column name.
struct StatRow {
  std::map<std::string, std::string> field;
  const std::string& get(const std::string& name) const;
  long num(const std::string& name) const;  // 0 when empty or not a number
  bool is_server() const { return get("type") == "2"; }
  bool is_backend() const { return get("type") == "1"; }
};

// Parses the CSV `show stat` answers: the `# ` header names the columns.
// Returns nullopt when there is no header line (not a stats answer).
std::optional<std::vector<StatRow>> parse_stat_csv(std::string_view text);

// A server is UP for rolling purposes when its status is exactly "UP"
// (not a transitional "UP 1/3", not DRAIN, NOLB, MAINT, DOWN), or "no
// check": a server without health checks takes traffic once it is ready.
bool server_up(const StatRow& r);
// UP and, with slowstart, at its full weight.
bool server_ready(const StatRow& r);

// After a server's restart, before `state ready`: the commands that mark
// its checks failed (`set server B/S health down`, `agent down`) so that only
// fresh successful checks (`rise` of them) or its agent's `up` report it UP
// again. None for a server without checks: nothing would bring it back.
std::vector<std::string> mark_unchecked_commands(const StatRow& r, const std::string& backend,
                                                 const std::string& server);

// POSIX shell single quoting: 'it'\''s'.
std::string shell_quote(std::string_view s);

// {backend} {server} {addr} {port} replaced by their shell-quoted values;
// other text is kept as is.
std::string substitute(std::string_view tmpl, const std::string& backend, const std::string& server,
                       const std::string& addr, const std::string& port);

// "127.0.0.1:8080" / "[::1]:80" -> ("127.0.0.1", "8080").
std::pair<std::string, std::string> split_addr(std::string_view addr);

struct PlanServer {
  std::string name, addr, port, status;
  bool up = false;
};

struct Plan {
  std::string backend;
  std::vector<std::vector<PlanServer>> batches;
  int up_now = 0;         // servers UP in the backend before the roll
  int min_up_during = 0;  // the fewest UP while a batch is out
  std::string error;      // non-empty: the roll must not start
};

// Servers of BACKEND (all, or ONLY in that order), BATCH at a time; refuses
// when a batch would leave fewer than MIN_UP servers UP.
Plan build_plan(const std::vector<StatRow>& rows, const std::string& backend,
                const std::vector<std::string>& only, int batch, int min_up);

std::string describe_plan(const Plan& p, std::string_view exec_tmpl);

std::vector<std::string> split_list(std::string_view s, char sep);

}  // namespace sluicectl
