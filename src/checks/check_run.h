#pragma once
// The check engine: a CheckRun runs one server's check, a sequence of
// connect / send / expect steps, every interval on one worker loop, and
// keeps the rise/fall health. Only the connect step exists today; protocol
// checks (issue #4) compile into longer step sequences.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "checks/check_types.h"
#include "checks/health.h"
#include "config/model.h"
#include "core/loop.h"

namespace sluice::checks {

using Millis = std::chrono::milliseconds;

struct CheckStep {
  enum class Kind { Connect, Send, Expect };
  Kind kind = Kind::Connect;
  std::string data;  // Send: bytes; Expect: pattern (later)
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
};

// Build a CheckConfig from a server and its backend (addr/port/source
// rules); `server_addr` is the server's resolved address.
CheckConfig make_check_config(const config::ServerDef& srv, const config::Proxy& be,
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
  const CheckConfig& config() const { return cfg_; }

  // Connect timeout per the manual: with "timeout check", min(connect, inter)
  // then "timeout check" for reads; without it, inter for the whole check.
  Millis connect_timeout() const;

  void on_events(std::uint32_t events) override;

 private:
  void begin();
  void finish(CheckStatus st, std::string info);
  void on_timeout();
  void schedule_next();

  core::Loop& loop_;
  CheckConfig cfg_;
  ResultFn on_result_;
  Health health_;
  core::Timer timer_;
  int fd_ = -1;
  bool running_ = false;
  bool in_check_ = false;
  std::int64_t started_ms_ = 0;
  std::uint64_t rng_;
};

}  // namespace sluice::checks
