#include "runtime/worker.h"

#include <unistd.h>

#include "runtime/engine_impl.h"

namespace sluice::runtime {

Worker::Worker(EngineImpl& engine, core::Loop& loop, unsigned index)
    : engine_(engine), loop_(loop), index_(index), buffers_(engine.model().global.bufsize) {
  for (auto& be : engine_.backends())
    balancers_.push_back(std::make_unique<proxy::ThreadBalancer>(*be));
  httpmode::HttpSessions::Hooks hooks;
  hooks.balancer = [this](proxy::Backend& be) -> proxy::ThreadBalancer& { return balancer(be); };
  hooks.active_connections = [this] { return active_connections(); };
  hooks.close_on_stop = [this](std::uint32_t key, const proxy::Frontend& fe) {
    return close_on_stop(key, fe);
  };
  const config::Global& g = engine.model().global;
  if (g.close_spread_infinite) {
    close_spread_ms_ = -1;
  } else if (g.close_spread_time) {
    close_spread_ms_ = g.close_spread_time->count();
  }
  // Not configured: all at once, as haproxy. (Measured under keep-alive load
  // with a reload every 2 s: spreading over 500 ms raised p99 more than the
  // burst of reconnections does, as two workers then share the CPUs longer.)
  hooks.done = [this](proxy::Frontend* fe) {
    if (fe != nullptr) engine_.on_session_end(*this, *fe);
    --live_;
    loop_.defer([this] { maybe_end(); });
  };
  hooks.can_hand_off = [this] { return engine_.handing_off(); };
  hooks.hand_off = [this](const httpmode::IdleConn& c) { return engine_.hand_off(c); };
  hooks.hand_off_server = [this](const httpmode::ServerConn& c) {
    return engine_.hand_off_server(c);
  };
  http_ = std::make_unique<httpmode::HttpSessions>(loop_, engine.model().global.bufsize,
                                                   std::move(hooks));
}

Worker::~Worker() {
  for (auto& s : sessions_) s->kill();
  http_->kill_all();
  for (auto& c : checks_) c->stop();
  for (auto& [s, c] : dyn_checks_) c->stop();
  listeners_.clear();
}

void Worker::init() {
  for (auto& b : engine_.bound()) {
    int fd = -1;
    if (b.shared) {
      // Each loop gets its own descriptor of the shared socket (the Listener
      // owns and closes it); the engine closes the original.
      fd = ::dup(b.fds[0]);
    } else {
      fd = b.fds[index_];
      b.fds[index_] = -1;  // now the Listener's
    }
    if (fd < 0) continue;
    proxy::Frontend* fe = b.frontend;
    BoundListener bl;
    bl.frontend = fe;
    bl.listener = std::make_unique<core::Listener>(
        loop_, fd, [this, fe](int cfd, const sockaddr_storage& peer, socklen_t len) {
          on_accept(cfd, peer, len, *fe);
        });
    bl.listener->set_admission([this, fe] { return engine_.admit(*this, *fe); },
                               [this, fe] { engine_.release(*this, *fe); });
    listeners_.push_back(std::move(bl));
  }
  for (auto& cp : engine_.check_placements()) {
    if (cp.thread != index_) continue;
    auto run = std::make_unique<proxy::ServerChecks>(loop_, *cp.backend, *cp.server,
                                                     engine_.model().global);
    run->start(cp.first_delay);
    checks_.push_back(std::move(run));
  }
  if (index_ == 0) {
    engine_.start_cli(*this);
    engine_.start_handoff_in(*this);
  }
  apply_pause();
}

void Worker::apply_pause() {
  if (stopping_) return;
  bool global = engine_.global_paused();
  for (auto& bl : listeners_) {
    bool pause = global || bl.frontend->paused().load(std::memory_order_acquire);
    if (pause)
      bl.listener->pause();
    else
      bl.listener->resume();
  }
}

unsigned Worker::active_connections() const {
  return engine_.actconn().load(std::memory_order_relaxed);
}

tcp::TcpSession* Worker::get_session() {
  if (!free_.empty()) {
    tcp::TcpSession* s = free_.back();
    free_.pop_back();
    return s;
  }
  sessions_.push_back(std::make_unique<tcp::TcpSession>(*this));
  return sessions_.back().get();
}

void Worker::on_accept(int fd, const sockaddr_storage& peer, socklen_t len, proxy::Frontend& fe) {
  if (stopping_) {
    ::close(fd);
    engine_.release(*this, fe);
    return;
  }
  engine_.on_session_start(*this, fe);
  ++live_;
  if (fe.def().mode == config::Mode::Http) {
    http_->start(fd, peer, len, fe);
    return;
  }
  get_session()->start(fd, peer, len, fe);
}

void Worker::adopt(int fd, const sockaddr_storage& peer, socklen_t len, proxy::Frontend& fe) {
  // Counted as a connection of this worker: over maxconn it is closed, as
  // an accept would have been refused. A stopping worker still serves it
  // (and hands it on to its own successor, or closes it after a response).
  if (ended_ || !engine_.admit(*this, fe)) {
    ::close(fd);
    return;
  }
  engine_.on_session_start(*this, fe);
  ++live_;
  http_->start(fd, peer, len, fe, /*adopted=*/true);
}

void Worker::adopt_server(int fd, proxy::Server& s) {
  if (ended_) {
    ::close(fd);
    return;
  }
  http_->server_conns().adopt(fd, &s);
}

void Worker::session_done(tcp::TcpSession& s) {
  proxy::Frontend* fe = s.frontend();
  if (fe != nullptr) engine_.on_session_end(*this, *fe);
  --live_;
  // Reuse only after this batch: a pending event of this batch may still
  // name the session's (closed) descriptors.
  tcp::TcpSession* sp = &s;
  loop_.defer([this, sp] {
    free_.push_back(sp);
    maybe_end();
  });
}

// A connection's turn comes at a fixed point of the window, taken from `key`
// (its descriptor) by a multiplicative hash: spread evenly, no state kept.
bool Worker::close_on_stop(std::uint32_t key, const proxy::Frontend& fe) const {
  // With a successor that has its frontend, a connection is handed over
  // once idle, not closed.
  if (!stopping_ || close_spread_ms_ < 0 || (http_->handing_off() && engine_.hands_over(fe)))
    return false;
  if (close_spread_ms_ == 0) return true;
  const std::uint64_t turn = (static_cast<std::uint64_t>(key * 2654435761U) *
                              static_cast<std::uint64_t>(close_spread_ms_)) >> 32;
  return loop_.now_ms() >= stop_at_ms_ + static_cast<std::int64_t>(turn);
}

void Worker::soft_stop() {
  if (stopping_) return;
  stopping_ = true;
  stop_at_ms_ = loop_.now_ms();
  for (auto& bl : listeners_) bl.listener->close();
  http_->soft_stop();
  maybe_end();
}

void Worker::hard_stop() {
  stopping_ = true;
  for (auto& bl : listeners_) bl.listener->close();
  for (auto& s : sessions_) s->kill();
  http_->kill_all();
  for (auto& c : checks_) c->stop();
  for (auto& [s, c] : dyn_checks_) c->stop();
  ended_ = true;
  loop_.stop();
}

void Worker::maybe_end() {
  if (!stopping_ || ended_ || live_ != 0) return;
  ended_ = true;
  for (auto& c : checks_) c->stop();
  for (auto& [s, c] : dyn_checks_) c->stop();
  loop_.stop();
}

}  // namespace sluice::runtime
