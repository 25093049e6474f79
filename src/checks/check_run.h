#pragma once
// The check engine: a CheckRun runs one server's check, a sequence of
// connect / send / expect steps, every interval on one worker loop, and
// keeps the rise/fall health. Protocol checks (`option httpchk`, `option
// mysql-check`, ...) only compile into step sequences (protocols.h).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "checks/check_types.h"
#include "checks/health.h"
#include "checks/matcher.h"
#include "checks/overrides.h"
#include "config/model.h"
#include "core/loop.h"

namespace sluice::checks {

using Millis = std::chrono::milliseconds;

struct CheckStep {
  enum class Kind { Connect, Send, Expect };
  Kind kind = Kind::Connect;
  std::string data;        // Send: the bytes
  std::uint16_t port = 0;  // Connect: port override (0: the check's port)
  MatcherPtr matcher;      // Expect
  // Send: where the X-Haproxy-Server-State line goes (`http-check
  // send-state`), npos when none. Its value is made at each check.
  std::size_t state_at = std::string::npos;
  // Connect: close with a reset (SO_LINGER 0) when the check ends. Right
  // for a bare connect; a protocol check ends its dialogue cleanly instead.
  bool reset_on_close = true;

  static CheckStep connect(bool reset = true, std::uint16_t port = 0) {
    CheckStep s;
    s.port = port;
    s.reset_on_close = reset;
    return s;
  }
  static CheckStep send(std::string bytes) {
    CheckStep s;
    s.kind = Kind::Send;
    s.data = std::move(bytes);
    return s;
  }
  static CheckStep expect(MatcherPtr m) {
    CheckStep s;
    s.kind = Kind::Expect;
    s.matcher = std::move(m);
    return s;
  }
};

struct CheckConfig {
  config::Address addr;  // where to connect (addr/port overrides applied)
  std::optional<config::Address> source;
  std::vector<CheckStep> steps{CheckStep{}};
  Millis inter{2000};
  Millis fastinter{2000};
  Millis downinter{2000};
  std::optional<Millis> timeout_connect;
  std::optional<Millis> timeout_check;
  unsigned rise = 2;
  unsigned fall = 3;
  unsigned spread_percent = 0;  // global spread-checks
  bool keepalive = false;
  // An agent check: results do not move this run's rise/fall health (the
  // backend interprets the agent's words, proxy::Backend::on_agent_result).
  bool agent = false;
  std::string compile_error;  // the protocol did not compile: every check fails with it
};

// Where a server's health check connects: check-addr (else the server's
// current address `server_addr`), on check-port (else check-addr's port,
// else the server's). A port of 0 means the server's, as in HAProxy.
config::Address health_check_address(const config::ServerDef& srv,
                                     const config::Address& server_addr, const CheckOverrides& o);
// Where its agent check connects: agent-addr (else the server's current
// address) on agent-port.
config::Address agent_check_address(const config::ServerDef& srv,
                                    const config::Address& server_addr, const CheckOverrides& o);

// Build a CheckConfig from a server and its backend (addr/port/source
// rules); `server_addr` is the server's resolved address.
CheckConfig make_check_config(const config::ServerDef& srv, const config::Proxy& be,
                              const config::Global& global);
// The agent check of a server (`agent-check`): agent-addr (else the
// server's address), agent-port, agent-inter (default 2s), agent-send.
CheckConfig make_agent_config(const config::ServerDef& srv, const config::Proxy& be,
                              const config::Global& global);

class CheckRun final : public core::IoHandler {
 public:
  // Called on the loop's thread after every check with the result and the
  // health transition it caused.
  using ResultFn = std::function<void(const CheckResult&, HealthChange, const Health&)>;

  CheckRun(core::Loop& loop, CheckConfig cfg, ResultFn on_result);
  ~CheckRun() override;
  CheckRun(const CheckRun&) = delete;
  CheckRun& operator=(const CheckRun&) = delete;

  // Start checking after `first_delay` (spreads servers over inter).
  void start(Millis first_delay);
  // Abort any check in progress and stop scheduling.
  void stop();
  bool running() const { return running_; }

  const Health& health() const { return health_; }
  Health& health() { return health_; }
  // The value of X-Haproxy-Server-State, made when a check sends it.
  void set_state_header(std::function<std::string()> fn) { state_header_ = std::move(fn); }
  const CheckConfig& config() const { return cfg_; }
  // Runtime API: the address and, for an agent, the line sent, used from
  // the next check on (a check in progress finishes with the old ones).
  void retarget(const config::Address& addr);
  void set_agent_send(std::string line);

  // Passive health saw errors: from now on a steady-up server is checked
  // every fastinter too (HAProxy keeps this for good), and a check waiting
  // longer than that is brought forward.
  void force_fastinter();
  bool fastinter_forced() const { return fastinter_forced_; }
  // The wait before the next check in the current state.
  Millis next_interval() const;

  // Connect timeout per the manual: with "timeout check", min(connect, inter)
  // then "timeout check" for reads; without it, inter for the whole check.
  Millis connect_timeout() const;

  void on_events(std::uint32_t events) override;

 private:
  enum class Phase { Idle, Connecting, Sending, Reading };

  void begin();
  void advance();
  bool start_connect(const CheckStep& s);
  void connected_now();
  bool flush();  // true: everything written; false: waiting, or finished on error
  void read_available();
  void close_fd();
  void finish(CheckStatus st, std::string info, int code = 0);
  void on_timeout();
  void schedule_next();

  core::Loop& loop_;
  CheckConfig cfg_;
  ResultFn on_result_;
  std::function<std::string()> state_header_;
  Health health_;
  core::Timer timer_;
  int fd_ = -1;
  Phase phase_ = Phase::Idle;
  std::size_t step_ = 0;
  std::string in_;   // bytes received since the last send
  std::string out_;  // bytes still to write
  bool eof_ = false;
  bool peer_closed_ = false;  // EPOLLRDHUP/EPOLLHUP seen on this connection
  // Something may be waiting to be read: set by a read edge, cleared when a
  // read comes back short. An expect reads only then, so a check does not
  // ask for an answer that cannot have come yet (a recv that says EAGAIN).
  bool may_read_ = false;
  bool watch_out_ = false;  // registered for write edges (kStreamEvents)
  bool reset_on_close_ = true;
  bool any_send_ = false;
  std::optional<Verdict> last_pass_;
  bool running_ = false;
  bool in_check_ = false;
  bool fastinter_forced_ = false;
  std::int64_t started_ms_ = 0;
  std::uint64_t rng_;
  std::optional<config::Address> next_addr_;  // retarget(), applied at begin()
  std::optional<std::string> next_send_;      // set_agent_send(), applied at begin()
};

}  // namespace sluice::checks
