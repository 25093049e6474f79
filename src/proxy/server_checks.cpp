#include "proxy/server_checks.h"

#include <unistd.h>

#include <algorithm>
#include <string>

namespace sluice::proxy {

ServerChecks::ServerChecks(core::Loop& loop, Backend& be, Server& srv, const config::Global& global)
    : loop_(loop), be_(be), srv_(srv) {
  if (srv.def().check) {
    check_ = std::make_unique<checks::CheckRun>(
        loop, checks::make_check_config(srv.def(), be.def(), global),
        [this](const checks::CheckResult& r, checks::HealthChange ch, const checks::Health& h) {
          if (!srv_.health_enabled() || srv_.removed()) return;  // set aside or deleted
          be_.on_check_result(srv_, r, ch, h);
          after_result();
        });
    // The server state file's verdict (runtime/server_state.h): DOWN stays
    // DOWN until `rise` passes; UP starts fully UP.
    if (!srv.up())
      check_->health().set_up(false);
    else if (srv.check().health.load() > check_->health().health())
      check_->health().set_health(srv.check().health.load());
    srv.check().health.store(check_->health().health());
    if (be.def().health_check.send_state) {
      std::string node = global.node;
      if (node.empty()) {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) == 0) node = host;
      }
      check_->set_state_header(
          [this, node] { return be_.state_header(srv_, check_->health(), node); });
    }
    // Passive health needs the health check: it acts on its counter.
    if (srv.def().observe != config::ServerDef::Observe::None) srv.set_observe_sink(this);
  }
  if (srv.def().agent_check) {
    agent_ = std::make_unique<checks::CheckRun>(
        loop, checks::make_agent_config(srv.def(), be.def(), global),
        [this](const checks::CheckResult& r, checks::HealthChange, const checks::Health&) {
          if (!srv_.agent_enabled() || srv_.removed()) return;
          be_.on_agent_result(srv_, r);
          after_result();
        });
  }
  retarget();  // a runtime address (server state file) or overrides already set
  warmup_.set_callback([this] {
    if (running_ && be_.warmup_tick(srv_)) after_result();
  });
}

ServerChecks::~ServerChecks() {
  srv_.set_observe_sink(nullptr);
  stop();
}

void ServerChecks::on_observed_errors(Observed last, unsigned count) {
  // Counted now, as the session that saw the error still holds its slot.
  int active = static_cast<int>(srv_.connections());
  loop_.post([this, last, count, active] { apply_observed(last, count, active); });
}

void ServerChecks::apply_observed(Observed last, unsigned count, int active) {
  if (!running_ || !check_) return;
  checks::Health& h = check_->health();
  check_->force_fastinter();
  using E = config::ServerDef::OnError;
  E mode = srv_.def().on_error;
  if (mode == E::FastInter) return;
  if (mode == E::SuddenDeath && h.health() > h.rise()) h.set_health(h.rise() + 1);
  if (mode == E::MarkDown) h.set_health(h.rise());
  checks::CheckResult r;
  r.status = checks::CheckStatus::Hana;
  r.duration_ms = -1;  // no check ran: the log line has no duration
  r.active_sessions = active;
  r.info = "Detected " + std::to_string(count) +
           " consecutive errors, last one was: " + observed_name(last);
  checks::HealthChange ch = h.on_result(false);
  be_.on_check_result(srv_, r, ch, h);
  after_result();
}

void ServerChecks::force(Backend::Forced f, bool agent) {
  const bool up = f != Backend::Forced::Down;
  if (agent) {
    auto& ah = srv_.check_local().agent_health;
    if (!ah) ah.emplace(srv_.def().rise, srv_.def().fall);
    ah->set_up(up);
    srv_.agent().health.store(ah->health(), std::memory_order_relaxed);
  } else if (check_) {
    check_->health().set_up(up);
    srv_.check().health.store(check_->health().health(), std::memory_order_relaxed);
  }
  be_.force_state(srv_, f, agent);
  after_result();  // coming UP may start a slowstart ramp
}

void ServerChecks::retarget() {
  const config::Address& addr = srv_.addr();
  if (check_)
    check_->retarget(checks::health_check_address(srv_.def(), addr, srv_.health_overrides()));
  if (agent_) {
    checks::CheckOverrides o = srv_.agent_overrides();
    agent_->retarget(checks::agent_check_address(srv_.def(), addr, o));
    if (o.send) agent_->set_agent_send(*o.send);
  }
}

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
