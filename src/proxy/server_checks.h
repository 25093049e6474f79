#pragma once
// The checks of one server, run on one worker loop: the health check
// (`check`), the agent check (`agent-check`) and the slowstart ramp. Both
// checks of a server share the loop, so the server's check-local state
// (Server::CheckLocal) is never touched by two threads.

#include <memory>

#include "checks/check_run.h"
#include "core/loop.h"
#include "proxy/backend.h"

namespace sluice::proxy {

class ServerChecks final : public ObserveSink {
 public:
  ServerChecks(core::Loop& loop, Backend& be, Server& srv, const config::Global& global);
  ~ServerChecks() override;
  ServerChecks(const ServerChecks&) = delete;
  ServerChecks& operator=(const ServerChecks&) = delete;

  // Start after `first_delay` (start-up spreading); the agent starts half
  // an interval later so both do not connect at the same instant.
  void start(checks::Millis first_delay);
  void stop();

  Server& server() const { return srv_; }
  checks::CheckRun* health_check() const { return check_.get(); }
  checks::CheckRun* agent_check() const { return agent_.get(); }

  // Runtime API, on the check's thread. `set server ... health|agent ...`:
  // the check's rise/fall counter and the server's state, as if the check
  // had decided it.
  void force(Backend::Forced f, bool agent);
  // `set server ... addr|check-addr|check-port|agent-addr|agent-port|
  // agent-send`: the checks connect where the server's overrides say from
  // their next run.
  void retarget();

  // ObserveSink: error-limit errors seen by sessions (any thread).
  void on_observed_errors(Observed last, unsigned count) override;
  // On the check's thread: the server's `on-error` action.
  // `active`: the server's sessions when the error was seen (for the log).
  void apply_observed(Observed last, unsigned count, int active = -1);

 private:
  void after_result();

  core::Loop& loop_;
  Backend& be_;
  Server& srv_;
  std::unique_ptr<checks::CheckRun> check_;
  std::unique_ptr<checks::CheckRun> agent_;
  core::Timer warmup_;
  bool running_ = false;
};

}  // namespace sluice::proxy
