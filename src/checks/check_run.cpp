#include "checks/check_run.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "checks/outgoing.h"
#include "checks/protocols.h"

namespace sluice::checks {

namespace {
constexpr std::size_t kMaxInput = 16384;
constexpr std::int64_t kCheckSlotMs = 8;  // tune.bufsize: what a check reads at most

void set_port(config::Address& a, std::uint16_t port) {
  if (a.family() == AF_INET)
    reinterpret_cast<sockaddr_in&>(a.storage).sin_port = htons(port);
  else if (a.family() == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(a.storage).sin6_port = htons(port);
}
}  // namespace

config::Address health_check_address(const config::ServerDef& srv,
                                     const config::Address& server_addr, const CheckOverrides& o) {
  config::Address a = o.addr ? *o.addr : srv.check_addr ? *srv.check_addr : server_addr;
  std::uint16_t port = 0;
  if (o.port)
    port = *o.port;
  else if (srv.check_port)
    port = *srv.check_port;
  else if (srv.check_addr && srv.check_addr->port() != 0)
    port = srv.check_addr->port();
  if (port == 0) port = server_addr.port();
  set_port(a, port);
  return a;
}

config::Address agent_check_address(const config::ServerDef& srv,
                                    const config::Address& server_addr, const CheckOverrides& o) {
  config::Address a = o.addr ? *o.addr : srv.agent_addr ? *srv.agent_addr : server_addr;
  set_port(a, o.port ? *o.port : srv.agent_port.value_or(0));
  return a;
}

CheckConfig make_check_config(const config::ServerDef& srv, const config::Proxy& be,
                              const config::Global& global) {
  CheckConfig c;
  c.addr = health_check_address(srv, srv.addr, {});
  if (srv.source)
    c.source = srv.source;
  else if (be.source)
    c.source = be.source;
  c.inter = srv.inter;
  c.fastinter = srv.fastinter.value_or(srv.inter);
  c.downinter = srv.downinter.value_or(srv.inter);
  c.timeout_connect = be.timeouts.connect;
  c.timeout_check = be.timeouts.check;
  c.rise = srv.rise;
  c.fall = srv.fall;
  c.spread_percent = global.spread_checks;
  c.keepalive = srv.tcpka || be.srvtcpka;
  c.compile_error = compile_check(be.health_check, srv, c.steps);
  if (!c.compile_error.empty()) c.steps = {CheckStep::connect()};
  return c;
}

CheckConfig make_agent_config(const config::ServerDef& srv, const config::Proxy& be,
                              const config::Global& global) {
  CheckConfig c;
  c.agent = true;
  c.addr = agent_check_address(srv, srv.addr, {});
  if (srv.source)
    c.source = srv.source;
  else if (be.source)
    c.source = be.source;
  c.inter = srv.agent_inter.value_or(Millis(2000));
  c.fastinter = c.inter;
  c.downinter = c.inter;
  c.timeout_connect = be.timeouts.connect;
  c.timeout_check = be.timeouts.check;
  c.rise = srv.rise;
  c.fall = srv.fall;
  c.spread_percent = global.spread_checks;
  c.steps = compile_agent(srv);
  if (!srv.agent_port) c.compile_error = "agent-check requires agent-port";
  return c;
}

CheckRun::CheckRun(core::Loop& loop, CheckConfig cfg, ResultFn on_result)
    : loop_(loop),
      cfg_(std::move(cfg)),
      on_result_(std::move(on_result)),
      health_(cfg_.rise, cfg_.fall),
      rng_(reinterpret_cast<std::uintptr_t>(this) ^ 0x9e3779b97f4a7c15ULL) {
  timer_.set_callback([this] {
    if (in_check_)
      on_timeout();
    else
      begin();
  });
}

CheckRun::~CheckRun() {
  stop();
}

Millis CheckRun::connect_timeout() const {
  if (cfg_.timeout_check) {
    Millis t = cfg_.inter;
    if (cfg_.timeout_connect) t = std::min(t, *cfg_.timeout_connect);
    return t;
  }
  return cfg_.inter;
}

void CheckRun::start(Millis first_delay) {
  running_ = true;
  loop_.arm(timer_, first_delay);
}

void CheckRun::stop() {
  running_ = false;
  loop_.cancel(timer_);
  close_fd();
  in_check_ = false;
  phase_ = Phase::Idle;
}

void CheckRun::close_fd() {
  if (fd_ < 0) return;
  if (reset_on_close_) set_nolinger(fd_);
  loop_.close_fd(fd_);  // closing drops it from epoll: no epoll_ctl(DEL)
  fd_ = -1;
}

void CheckRun::retarget(const config::Address& addr) {
  next_addr_ = addr;
}

void CheckRun::set_agent_send(std::string line) {
  next_send_ = std::move(line);
}

void CheckRun::begin() {
  if (!running_) return;
  if (next_addr_) {
    cfg_.addr = *next_addr_;
    next_addr_.reset();
  }
  if (next_send_) {
    // The agent's steps: connect, [send], expect (proto_agent.cpp).
    auto& st = cfg_.steps;
    auto send = std::find_if(st.begin(), st.end(),
                             [](const CheckStep& x) { return x.kind == CheckStep::Kind::Send; });
    if (next_send_->empty()) {
      if (send != st.end()) st.erase(send);
    } else if (send != st.end()) {
      send->data = *next_send_;
    } else if (!st.empty()) {
      st.insert(st.begin() + 1, CheckStep::send(*next_send_));
    }
    next_send_.reset();
  }
  loop_.refresh_now();
  started_ms_ = loop_.now_ms();
  in_check_ = true;
  step_ = 0;
  in_.clear();
  out_.clear();
  eof_ = false;
  peer_closed_ = false;
  any_send_ = false;
  last_pass_.reset();
  if (!cfg_.compile_error.empty()) {
    finish(CheckStatus::SockErr, cfg_.compile_error);
    return;
  }
  advance();
}

bool CheckRun::start_connect(const CheckStep& s) {
  close_fd();
  config::Address dst = cfg_.addr;
  if (s.port != 0) set_port(dst, s.port);
  OutgoingOptions opts;
  opts.source = cfg_.source ? &*cfg_.source : nullptr;
  opts.keepalive = cfg_.keepalive;
  bool bare = step_ + 1 == cfg_.steps.size() && s.reset_on_close;
  // No separate ACK for the handshake when the check speaks first: it rides
  // on the request (one packet less). A bare connect never completes the
  // server's side at all (see below). Server-first protocols (greetings)
  // keep the quick ACK so the server's accept() is not delayed.
  bool client_first =
      step_ + 1 < cfg_.steps.size() && cfg_.steps[step_ + 1].kind == CheckStep::Kind::Send;
  opts.delay_ack = bare || client_first;
  int err = 0;
  fd_ = open_outgoing(dst, opts, err);
  reset_on_close_ = s.reset_on_close;
  eof_ = false;
  peer_closed_ = false;
  in_.clear();
  if (fd_ < 0) {
    bool sock = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
                err == EADDRINUSE || err == EADDRNOTAVAIL;
    finish(sock ? CheckStatus::SockErr : CheckStatus::L4Con, std::strerror(err));
    return false;
  }
  // On loopback the handshake is usually complete when connect() returns;
  // a second connect() tells in one call: 0 (connected), EALREADY (still
  // going: wait for the socket), or the error (refused...). A bare connect
  // check then resets at once, without an epoll round trip: a server such
  // as MariaDB counts a connection that vanishes after its accept() has
  // looked at the peer as a handshake error (and blocks the host after
  // max_connect_errors of them); one already reset before that is not
  // counted.
  int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&dst.storage), dst.length);
  int cerr = rc == 0 ? 0 : errno;
  if (cerr != 0 && cerr != EALREADY && cerr != EINPROGRESS && cerr != EISCONN) {
    ::close(fd_);
    fd_ = -1;
    finish(CheckStatus::L4Con, std::strerror(cerr));
    return false;
  }
  bool connected = cerr == 0 || cerr == EISCONN;
  if (bare && connected) {
    set_nolinger(fd_);
    ::close(fd_);
    fd_ = -1;
    finish(CheckStatus::L4Ok, "");
    return false;
  }
  // A connected socket only waits for answers until a send stalls: a write
  // edge now would wake the loop for nothing.
  may_read_ = false;
  watch_out_ = !connected;
  if (!loop_.add(fd_, this, connected ? core::Loop::kReadEvents : core::Loop::kStreamEvents)) {
    finish(CheckStatus::SockErr, "cannot register socket");
    return false;
  }
  if (connected) {
    connected_now();
    return true;
  }
  phase_ = Phase::Connecting;
  loop_.arm(timer_, connect_timeout());
  return true;
}

// Connected: the rest of the check has "timeout check" (or what is left of
// inter) to complete.
void CheckRun::connected_now() {
  loop_.refresh_now();
  Millis left =
      cfg_.timeout_check
          ? *cfg_.timeout_check
          : Millis(std::max<std::int64_t>(1, cfg_.inter.count() - (loop_.now_ms() - started_ms_)));
  loop_.arm(timer_, left);
  phase_ = Phase::Idle;
  ++step_;
  advance();
}

// Runs steps until one has to wait for the socket, or the check ends.
void CheckRun::advance() {
  const auto& steps = cfg_.steps;
  for (int guard = 0; step_ < steps.size() && guard < 1000; ++guard) {
    const CheckStep& s = steps[step_];
    switch (s.kind) {
      case CheckStep::Kind::Connect:
        start_connect(s);
        return;  // on_events continues, or finish() ran
      case CheckStep::Kind::Send:
        if (fd_ < 0) {
          finish(CheckStatus::SockErr, "send without a connection");
          return;
        }
        in_.clear();  // an expect reads what follows the last send
        any_send_ = true;
        if (s.state_at != std::string::npos && state_header_) {
          out_.append(s.data, 0, s.state_at);
          out_ += "x-haproxy-server-state: ";  // lower case on the wire, as haproxy 2.6
          out_ += state_header_();
          out_ += "\r\n";
          out_.append(s.data, s.state_at);
        } else {
          out_ += s.data;
        }
        if (!flush()) return;
        ++step_;
        break;
      case CheckStep::Kind::Expect: {
        if (fd_ < 0) {
          finish(CheckStatus::SockErr, "expect without a connection");
          return;
        }
        if (may_read_) read_available();
        bool full = in_.size() >= kMaxInput;
        Verdict v = s.matcher->match(in_, eof_ || full);
        if (v.kind == Verdict::Kind::NeedMore) {
          if (eof_ || full) {
            finish(CheckStatus::L7Rsp, in_.empty() ? "Empty response" : "Truncated response");
            return;
          }
          phase_ = Phase::Reading;
          return;
        }
        if (v.kind == Verdict::Kind::Fail) {
          finish(v.status, std::move(v.info), v.code);
          return;
        }
        // A later expect without text of its own keeps the earlier one
        // (MySQL: the greeting's server version).
        if (v.info.empty() && last_pass_) v.info = last_pass_->info;
        last_pass_ = std::move(v);
        ++step_;
        break;
      }
    }
  }
  if (last_pass_)
    finish(last_pass_->status, last_pass_->info, last_pass_->code);
  else
    finish(any_send_ ? CheckStatus::L7Ok : CheckStatus::L4Ok, "");
}

bool CheckRun::flush() {
  while (!out_.empty()) {
    ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!watch_out_) {
        if (!loop_.modify(fd_, this, core::Loop::kStreamEvents)) {
          finish(CheckStatus::SockErr, "cannot register socket");
          return false;
        }
        watch_out_ = true;
      }
      phase_ = Phase::Sending;
      return false;
    }
    // The peer is gone: what it said before leaving (an error packet, a
    // banner) explains more than EPIPE does.
    int e = errno;
    read_available();
    bool expect_follows = false;
    for (std::size_t k = step_ + 1; k < cfg_.steps.size(); ++k)
      if (cfg_.steps[k].kind == CheckStep::Kind::Expect) expect_follows = true;
    if (!expect_follows && last_pass_) {
      // A farewell (QUIT) the server no longer waits for: the check is done.
      out_.clear();
      step_ = cfg_.steps.size();
      advance();
      return false;
    }
    if (step_ + 1 < cfg_.steps.size() && cfg_.steps[step_ + 1].kind == CheckStep::Kind::Expect &&
        !in_.empty()) {
      out_.clear();
      ++step_;
      eof_ = true;
      advance();
      return false;
    }
    finish(CheckStatus::L4Con, std::strerror(e));
    return false;
  }
  return true;
}

void CheckRun::read_available() {
  char buf[4096];
  for (int i = 0; i < 64 && !eof_ && in_.size() < kMaxInput; ++i) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      // A short read means "wait for the next edge", unless the peer's FIN
      // was already reported: then no edge will come, so read on to EOF.
      if (static_cast<std::size_t>(n) < sizeof buf && !peer_closed_) {
        may_read_ = false;
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      may_read_ = false;
      return;
    }
    eof_ = true;  // closed or reset: what we have is all there is
  }
}

void CheckRun::on_events(std::uint32_t events) {
  if (!in_check_ || fd_ < 0) return;
  if (events & (EPOLLRDHUP | EPOLLHUP)) peer_closed_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) may_read_ = true;
  switch (phase_) {
    case Phase::Connecting: {
      // A failed connect always reports EPOLLERR (and EPOLLHUP): a plain
      // EPOLLOUT means it succeeded, without asking SO_ERROR.
      int soerr = 0;
      if (events & (EPOLLERR | EPOLLHUP)) {
        socklen_t len = sizeof soerr;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &len);
      }
      if (soerr != 0) {
        finish(CheckStatus::L4Con, std::strerror(soerr));
        return;
      }
      if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
        finish(CheckStatus::L4Con, std::strerror(ECONNRESET));
        return;
      }
      if (!(events & EPOLLOUT)) return;
      connected_now();
      return;
    }
    case Phase::Sending:
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        phase_ = Phase::Idle;
        if (!flush()) return;
        ++step_;
        advance();
      }
      return;
    case Phase::Reading:
      phase_ = Phase::Idle;
      advance();
      return;
    case Phase::Idle:
      return;
  }
}

void CheckRun::on_timeout() {
  switch (phase_) {
    case Phase::Connecting:
      finish(CheckStatus::L4Tout, "");
      return;
    case Phase::Reading: {
      const CheckStep& s = cfg_.steps[step_];
      CheckStatus st = s.matcher ? s.matcher->timeout_status() : CheckStatus::L7Tout;
      finish(st, "");
      return;
    }
    default:
      finish(CheckStatus::L7Tout, "");
  }
}

void CheckRun::finish(CheckStatus st, std::string info, int code) {
  loop_.cancel(timer_);
  close_fd();
  in_check_ = false;
  phase_ = Phase::Idle;
  out_.clear();
  loop_.refresh_now();
  CheckResult r;
  r.status = st;
  r.duration_ms = std::max<std::int64_t>(0, loop_.now_ms() - started_ms_);
  r.code = code;
  r.info = std::move(info);
  HealthChange ch = cfg_.agent ? HealthChange::None : health_.on_result(r.passed());
  if (on_result_) on_result_(r, ch, health_);
  schedule_next();
}

Millis CheckRun::next_interval() const {
  if (fastinter_forced_ && health_.steady_up()) return cfg_.fastinter;
  return health_.interval(cfg_.inter, cfg_.fastinter, cfg_.downinter);
}

void CheckRun::force_fastinter() {
  fastinter_forced_ = true;
  if (!running_ || in_check_ || !timer_.armed()) return;
  loop_.refresh_now();
  std::int64_t at = loop_.now_ms() + next_interval().count();
  if (at < timer_.deadline_ms()) loop_.arm_at(timer_, at);
}

void CheckRun::schedule_next() {
  if (!running_) return;
  Millis next = next_interval();
  if (cfg_.spread_percent > 0 && next.count() > 0) {
    // +/- spread% of random noise, as global "spread-checks" asks.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    std::int64_t span = next.count() * cfg_.spread_percent / 100;
    if (span > 0) {
      std::int64_t noise = static_cast<std::int64_t>(rng_ % (2 * span + 1)) - span;
      next = Millis(std::max<std::int64_t>(1, next.count() + noise));
    }
  }
  // Checks due within the same few milliseconds share one wake-up of the
  // loop (2,000 servers at 1 s: a third of the context switches). Rounded
  // to the nearest slot, so intervals stay exact on average.
  std::int64_t at = loop_.now_ms() + next.count();
  if (next.count() > 4 * kCheckSlotMs) at = (at + kCheckSlotMs / 2) / kCheckSlotMs * kCheckSlotMs;
  loop_.arm_at(timer_, at);
}

}  // namespace sluice::checks
