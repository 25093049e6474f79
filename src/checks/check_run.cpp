#include "checks/check_run.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "checks/outgoing.h"

namespace sluice::checks {

namespace {
void set_port(config::Address& a, std::uint16_t port) {
  if (a.family() == AF_INET)
    reinterpret_cast<sockaddr_in&>(a.storage).sin_port = htons(port);
  else if (a.family() == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(a.storage).sin6_port = htons(port);
}
}  // namespace

CheckConfig make_check_config(const config::ServerDef& srv, const config::Proxy& be,
                              const config::Global& global) {
  CheckConfig c;
  c.addr = srv.check_addr ? *srv.check_addr : srv.addr;
  std::uint16_t port = 0;
  if (srv.check_port)
    port = *srv.check_port;
  else if (srv.check_addr && srv.check_addr->port() != 0)
    port = srv.check_addr->port();
  else
    port = srv.addr.port();
  set_port(c.addr, port);
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

CheckRun::~CheckRun() { stop(); }

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
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  in_check_ = false;
}

void CheckRun::begin() {
  if (!running_) return;
  loop_.refresh_now();
  started_ms_ = loop_.now_ms();
  OutgoingOptions opts;
  opts.source = cfg_.source ? &*cfg_.source : nullptr;
  opts.keepalive = cfg_.keepalive;
  int err = 0;
  fd_ = open_outgoing(cfg_.addr, opts, err);
  in_check_ = true;
  if (fd_ < 0) {
    bool sock = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
                err == EADDRINUSE || err == EADDRNOTAVAIL;
    finish(sock ? CheckStatus::SockErr : CheckStatus::L4Con, std::strerror(err));
    return;
  }
  if (!loop_.add(fd_, this)) {
    finish(CheckStatus::SockErr, "cannot register socket");
    return;
  }
  loop_.arm(timer_, connect_timeout());
}

void CheckRun::on_events(std::uint32_t events) {
  if (!in_check_ || fd_ < 0) return;
  int soerr = 0;
  socklen_t len = sizeof soerr;
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (soerr != 0) {
    finish(CheckStatus::L4Con, std::strerror(soerr));
    return;
  }
  if (events & (EPOLLERR | EPOLLHUP)) {
    finish(CheckStatus::L4Con, std::strerror(ECONNRESET));
    return;
  }
  if (events & EPOLLOUT) finish(CheckStatus::L4Ok, "");
}

void CheckRun::on_timeout() { finish(CheckStatus::L4Tout, ""); }

void CheckRun::finish(CheckStatus st, std::string info) {
  loop_.cancel(timer_);
  if (fd_ >= 0) {
    loop_.remove(fd_);
    // A plain connect check is done with the connection: reset it rather
    // than leave a TIME_WAIT per check.
    set_nolinger(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  in_check_ = false;
  loop_.refresh_now();
  CheckResult r;
  r.status = st;
  r.duration_ms = std::max<std::int64_t>(0, loop_.now_ms() - started_ms_);
  r.info = std::move(info);
  HealthChange ch = health_.on_result(r.passed());
  if (on_result_) on_result_(r, ch, health_);
  schedule_next();
}

void CheckRun::schedule_next() {
  if (!running_) return;
  Millis next = health_.interval(cfg_.inter, cfg_.fastinter, cfg_.downinter);
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
  loop_.arm(timer_, next);
}

}  // namespace sluice::checks
