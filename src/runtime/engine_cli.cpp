// The engine's side of the runtime API: opening the stats sockets and the
// command environment (which proxies exist, how a dynamic server's checks
// reach a worker thread, how `show sess` gathers every thread's sessions).

#include <ctime>
#include <memory>

#include "runtime/engine_impl.h"

namespace sluice::runtime {

Result<void> EngineImpl::build_cli() {
  start_wall_s_ = static_cast<std::int64_t>(std::time(nullptr));
  const config::Global& glob = model_.global;
  // Every proxy in configuration order, with its two sides.
  for (const auto& p : model_.proxies) {
    if (p.disabled) continue;
    CliEnv::Proxy e;
    for (auto& fe : frontends_)
      if (&fe->def() == &p) e.fe = fe.get();
    for (auto& be : backends_)
      if (&be->def() == &p) e.be = be.get();
    if (e.fe || e.be) cli_env_.proxies.push_back(e);
  }
  cli_env_.start_wall_s = start_wall_s_;
  cli_env_.nbthread = nthreads_;
  cli_env_.maxconn = maxconn();
  cli_env_.hard_maxconn = hard_maxconn_;
  // The CLI runs on worker 0: broadcast_pause applies there and posts to the others.
  cli_env_.set_global_maxconn = [this](unsigned m) { set_maxconn(m); };
  cli_env_.set_frontend_maxconn = [this](proxy::Frontend& fe, unsigned m) {
    set_frontend_maxconn(fe, m);
  };
  for (const auto& cp : checks_) check_thread_[cp.server] = cp.thread;
  // A server's checks live on one worker: run `fn` there, answer on worker 0.
  cli_env_.with_checks = [this](proxy::Server& s, CliEnv::ChecksFn fn,
                                std::function<void(std::string)> done) {
    if (workers_.empty()) return;
    unsigned t = 0;
    if (auto d = dyn_check_thread_.find(&s); d != dyn_check_thread_.end())
      t = d->second;
    else if (auto c = check_thread_.find(&s); c != check_thread_.end())
      t = c->second;
    Worker* w = workers_[t].get();
    core::Loop* home = &workers_[0]->loop();
    proxy::Server* sp = &s;
    w->loop().post([w, sp, home, fn = std::move(fn), done = std::move(done)] {
      std::string text = fn(w->find_server_checks(*sp));
      if (done) home->post([done, text = std::move(text)] { done(text); });
    });
  };
  cli_env_.node = glob.node;
  // `shutdown sessions server B/S`: closes them on every worker thread (posted).
  cli_env_.shutdown_sessions = [](proxy::Server& s) {
    s.shutdown_sessions(proxy::TermCause::Killed);
  };
  // Recorded now: the workers take the per-thread fds out of bound_ later,
  // and hold them open until the soft stop (which closes the stats socket first).
  std::vector<std::pair<std::string, int>> exposed;
  for (const auto& b : bound_)
    for (int fd : b.fds)
      if (fd >= 0) exposed.emplace_back(b.key, fd);
  cli_env_.listening_fds = [exposed] { return exposed; };
  cli_env_.take_handoff_channel = [this](int fd) { return take_handoff_channel(fd); };
  cli_env_.current_conns = [this] { return actconn_.load(std::memory_order_relaxed); };
  cli_env_.stopping = [this] { return stopping(); };
  // Dynamic servers' checks go to the threads in turn.
  cli_env_.create_checks = [this](proxy::Backend& be, proxy::Server& s) {
    if (workers_.empty()) return;
    unsigned t = static_cast<unsigned>(dyn_check_thread_.size() % workers_.size());
    dyn_check_thread_[&s] = t;
    Worker* w = workers_[t].get();
    proxy::Backend* bp = &be;
    proxy::Server* sp = &s;
    w->loop().post([w, bp, sp] { w->add_server_checks(*bp, *sp); });
  };
  cli_env_.run_checks = [this](proxy::Server& s, bool run) {
    auto it = dyn_check_thread_.find(&s);
    if (it == dyn_check_thread_.end()) return;
    Worker* w = workers_[it->second].get();
    proxy::Server* sp = &s;
    w->loop().post([w, sp, run] { w->run_server_checks(*sp, run); });
  };
  cli_env_.drop_checks = [this](proxy::Server& s) {
    auto it = dyn_check_thread_.find(&s);
    if (it == dyn_check_thread_.end()) return;
    Worker* w = workers_[it->second].get();
    proxy::Server* sp = &s;
    w->loop().post([w, sp] { w->drop_server_checks(*sp); });
    dyn_check_thread_.erase(it);
  };
  cli_env_.list_sessions = [this](std::function<void(std::string)> done) {
    // Ask every thread; the last answer goes back to the CLI's loop.
    struct Gather {
      std::vector<std::string> parts;
      std::atomic<unsigned> left{0};
      std::function<void(std::string)> done;
      core::Loop* home = nullptr;
    };
    auto g = std::make_shared<Gather>();
    g->parts.resize(workers_.size());
    g->left = static_cast<unsigned>(workers_.size());
    g->done = std::move(done);
    g->home = &workers_[0]->loop();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      Worker* w = workers_[i].get();
      w->loop().post([w, g, i] {
        g->parts[i] = w->describe_sessions();
        if (g->left.fetch_sub(1) == 1) {
          g->home->post([g] {
            std::string all;
            for (auto& p : g->parts) all += p;
            g->done(std::move(all));
          });
        }
      });
    }
  };
  if (glob.graphite)
    graphite_ = std::make_unique<stats::GraphitePusher>(
        *glob.graphite, [this] { return cli_env_.sources(); }, logger_);
  {
    std::vector<const config::Proxy*> with_alerts;
    for (const auto& p : model_.proxies)
      if (!p.disabled && !p.alerts.empty()) with_alerts.push_back(&p);
    if (!with_alerts.empty())
      alerts_ = std::make_unique<stats::AlertWatch>(
          with_alerts, [this] { return cli_env_.sources(); }, logger_);
  }
  // email-alert: state changes at or above the level go to worker 0, which mails them.
  for (auto& be : backends_) {
    const config::EmailAlert& ea = be->def().email_alert;
    if (ea.mailers.empty() || ea.from.empty() || ea.to.empty()) continue;
    const config::MailersDef* ms = nullptr;
    for (const auto& m : model_.mailers)
      if (m.name == ea.mailers) ms = &m;
    if (!ms) continue;
    if (!email_) email_ = std::make_unique<stats::EmailAlerts>(logger_);
    stats::EmailAlerts* mail = email_.get();
    be->set_state_hook([this, mail, ms, &ea](log::Level lvl, const std::string& line) {
      if (static_cast<int>(lvl) > ea.level || workers_.empty()) return;
      core::Loop* loop = &workers_[0]->loop();
      loop->post([mail, loop, ms, &ea, line] { mail->send(*loop, *ms, ea, line); });
    });
  }
  if (glob.stats_sockets.empty()) return {};
  auto cli = CliServer::open(glob);
  if (!cli) return make_error(cli.error());
  cli_ = std::move(*cli);
  return {};
}

void EngineImpl::start_cli(Worker& w) {
  if (cli_) cli_->start(w.loop(), cli_env_);
  if (graphite_) graphite_->start(w.loop());
  if (alerts_) alerts_->start(w.loop());
}

void EngineImpl::stop_cli() {
  if (graphite_ && !workers_.empty()) {
    stats::GraphitePusher* g = graphite_.get();
    workers_[0]->loop().post([g] { g->stop(); });
  }
  if (email_ && !workers_.empty()) {
    stats::EmailAlerts* m = email_.get();
    workers_[0]->loop().post([m] { m->stop(); });
  }
  if (alerts_ && !workers_.empty()) {
    stats::AlertWatch* a = alerts_.get();
    workers_[0]->loop().post([a] { a->stop(); });
  }
  if (!cli_ || workers_.empty()) return;
  CliServer* c = cli_.get();
  workers_[0]->loop().post([c] { c->stop(); });
}

}  // namespace sluice::runtime
