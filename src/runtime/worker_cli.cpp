// A worker's part of the runtime API: checks of dynamic servers and the
// `show sess` lines of its sessions. Runs on the worker's own thread.

#include "runtime/engine_impl.h"
#include "runtime/worker.h"

namespace sluice::runtime {

void Worker::add_server_checks(proxy::Backend& be, proxy::Server& s) {
  dyn_checks_[&s] = std::make_unique<proxy::ServerChecks>(loop_, be, s, engine_.model().global);
}

void Worker::run_server_checks(proxy::Server& s, bool run) {
  auto it = dyn_checks_.find(&s);
  if (it == dyn_checks_.end()) return;
  it->second->stop();
  if (run && !stopping_) it->second->start(checks::Millis(0));
}

void Worker::drop_server_checks(proxy::Server& s) {
  auto it = dyn_checks_.find(&s);
  if (it == dyn_checks_.end()) return;
  it->second->stop();
  dyn_checks_.erase(it);
}

proxy::ServerChecks* Worker::find_server_checks(const proxy::Server& s) const {
  for (const auto& c : checks_)
    if (&c->server() == &s) return c.get();
  auto it = dyn_checks_.find(const_cast<proxy::Server*>(&s));
  return it == dyn_checks_.end() ? nullptr : it->second.get();
}

std::string Worker::describe_sessions() const {
  std::string out;
  const std::int64_t now = loop_.now_ms();
  for (const auto& s : sessions_)
    if (s->active()) s->describe(out, now);
  http_->describe(out);
  return out;
}

}  // namespace sluice::runtime
