#include "proxy/server_checks.h"

#include <algorithm>

namespace sluice::proxy {

ServerChecks::ServerChecks(core::Loop& loop, Backend& be, Server& srv,
                           const config::Global& global)
    : loop_(loop), be_(be), srv_(srv) {
  if (srv.def().check) {
    check_ = std::make_unique<checks::CheckRun>(
        loop, checks::make_check_config(srv.def(), be.def(), global),
        [this](const checks::CheckResult& r, checks::HealthChange ch, const checks::Health& h) {
          if (!srv_.health_enabled()) return;  // `disable health`: verdicts set aside
          be_.on_check_result(srv_, r, ch, h);
          after_result();
        });
    srv.check().health.store(check_->health().health());
  }
  if (srv.def().agent_check) {
    agent_ = std::make_unique<checks::CheckRun>(
        loop, checks::make_agent_config(srv.def(), be.def(), global),
        [this](const checks::CheckResult& r, checks::HealthChange, const checks::Health&) {
          if (!srv_.agent_enabled()) return;
          be_.on_agent_result(srv_, r);
          after_result();
        });
  }
  warmup_.set_callback([this] {
    if (running_ && be_.warmup_tick(srv_)) after_result();
  });
}

ServerChecks::~ServerChecks() { stop(); }

void ServerChecks::start(checks::Millis first_delay) {
  running_ = true;
  if (check_) check_->start(first_delay);
  if (agent_) agent_->start(first_delay + agent_->config().inter / 2);
}

void ServerChecks::stop() {
  running_ = false;
  loop_.cancel(warmup_);
  if (check_) check_->stop();
  if (agent_) agent_->stop();
}

// A result may have started a slowstart ramp: step it about every second
// (or every 1/20th of the ramp when longer), as HAProxy does.
void ServerChecks::after_result() {
  if (!running_ || !srv_.warming() || warmup_.armed()) return;
  auto step = std::max<std::int64_t>(1000, srv_.def().slowstart.count() / 20);
  loop_.arm(warmup_, checks::Millis(step));
}

}  // namespace sluice::proxy
