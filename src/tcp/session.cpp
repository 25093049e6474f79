#include "tcp/session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "checks/outgoing.h"
#include "core/speculation.h"
#include "log/logformat.h"
#include "log/logger.h"
#include "proxy/accounting.h"
#include "proxy/directory.h"

namespace sluice::tcp {

using proxy::TermCause;
using proxy::TermPhase;

namespace {
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// How often this thread's first reads after accept found data.
core::SpeculationGate& first_read_gate() {
  thread_local core::SpeculationGate gate;
  return gate;
}

void set_port(config::Address& a, std::uint16_t port) {
  if (a.family() == AF_INET)
    reinterpret_cast<sockaddr_in&>(a.storage).sin_port = htons(port);
  else if (a.family() == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(a.storage).sin6_port = htons(port);
}
}  // namespace

TcpSession::TcpSession(SessionHost& host) : host_(host), loop_(host.loop()) {
  client_.owner = this;
  server_.owner = this;
  timer_.set_callback([this] { on_timer(); });
}

TcpSession::~TcpSession() {
  if (active()) kill();
}

// ---------------------------------------------------------------- accept

void TcpSession::start(int fd, const sockaddr_storage& peer, socklen_t peer_len,
                       proxy::Frontend& fe) {
  state_ = State::Idle;
  client_ = Side{};
  client_.owner = this;
  server_ = Side{};
  server_.owner = this;
  req_ = Direction{};
  res_ = Direction{};
  req_.src = &client_;
  req_.dst = &server_;
  res_.src = &server_;
  res_.dst = &client_;
  fe_ = &fe;
  be_ = nullptr;
  srv_ = nullptr;
  last_srv_ = nullptr;
  be_counted_ = false;
  queued_forced_ = false;
  retries_ = 0;
  redispatched_ = false;
  timed_out_connect_ = false;
  term_ = proxy::Termination{};
  peer_ = peer;
  peer_len_ = peer_len;
  local_known_ = false;
  stream_id_ = fe.log_format() != nullptr ? log::next_stream_id() : 0;
  ::gettimeofday(&accept_tv_, nullptr);
  t_accept_ = loop_.now_ms();
  t_queue_done_ = -1;
  tc_ = -1;
  srv_queue_pos_ = be_queue_pos_ = 0;

  client_.fd = fd;
  client_.last = t_accept_;
  client_.writable = true;
  // The client's first bytes usually come with (or right after) the
  // handshake: connect() reads them without waiting for an edge, as long
  // as that keeps finding data on this thread.
  spec_try_ = first_read_gate().should_try();
  client_.readable = spec_try_;
  if (fe.def().clitcpka) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  }
  state_ = State::Queued;  // not yet relaying; refined by assign()
  if (!loop_.add(fd, &client_, core::Loop::kReadEvents)) {
    abort(TermCause::Resource, TermPhase::None);
    return;
  }
  route();
}

// ---------------------------------------------------------------- route

void TcpSession::route() {
  proxy::Backend* be = nullptr;
  for (const auto& r : fe_->routes()) {
    if (r.cond && !r.cond->evaluate(*this)) continue;
    be = r.backend;
    break;
  }
  if (be == nullptr) be = fe_->default_backend();
  if (be == nullptr) {
    abort(TermCause::ProxyAbort, TermPhase::Request);
    return;
  }
  be_ = be;
  be_->counters().enter();
  be_counted_ = true;
  req_.splice = be_->def().splice_request || be_->def().splice_auto ||
                fe_->def().splice_request || fe_->def().splice_auto;
  res_.splice = be_->def().splice_response || be_->def().splice_auto ||
                fe_->def().splice_response || fe_->def().splice_auto;
  if (peer_.ss_family == AF_UNIX) req_.splice = res_.splice = false;
  assign();
}

// ---------------------------------------------------------------- pick

void TcpSession::assign() {
  lb::PickInput in;
  if (be_->def().balance.algo == config::BalanceAlgo::Source) {
    if (peer_.ss_family == AF_INET)
      in.key = std::string_view(
          reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in&>(peer_).sin_addr), 4);
    else if (peer_.ss_family == AF_INET6)
      in.key = std::string_view(
          reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in6&>(peer_).sin6_addr),
          16);
  }
  proxy::Server* s = nullptr;
  auto outcome = host_.balancer(*be_).pick(in, s);
  if (outcome == proxy::ThreadBalancer::Outcome::Picked) {
    srv_ = s;
    last_srv_ = s;
    srv_->counters().enter();
    be_->counters().lbtot.fetch_add(1, std::memory_order_relaxed);
    t_queue_done_ = loop_.now_ms();
    connect();
    return;
  }
  if (outcome == proxy::ThreadBalancer::Outcome::NoServer) {
    // Nothing usable: HAProxy's 503 in HTTP, a close with "SC" in TCP.
    if (redispatched_ || retries_ > 0) {
      abort(timed_out_connect_ ? TermCause::ServerTimeout : TermCause::ServerAbort,
            TermPhase::Connect);
    } else {
      abort(TermCause::ServerAbort, TermPhase::Connect);
    }
    return;
  }
  if (outcome == proxy::ThreadBalancer::Outcome::ServerFull) {
    // A hash chose a full server: wait for it (its maxqueue permitting).
    state_ = State::Queued;
    ++ticket_;
    if (be_->enqueue(pending_, s, loop_, *this, ticket_, loop_.now_ms()) ==
        proxy::Backend::Enqueued::Yes) {
      queued_forced_ = true;
      last_srv_ = s;
      srv_queue_pos_ = pending_.position;
      if (auto tq = be_->timeout_queue()) loop_.arm(timer_, *tq);
      return;
    }
  }
  // Every usable server is at its maxconn: wait in the backend queue.
  last_srv_ = nullptr;
  state_ = State::Queued;
  queued_forced_ = false;
  ++ticket_;
  be_->enqueue(pending_, nullptr, loop_, *this, ticket_, loop_.now_ms());
  be_queue_pos_ = pending_.position;
  if (auto tq = be_->timeout_queue()) loop_.arm(timer_, *tq);
}

void TcpSession::on_slot_granted(std::uint32_t ticket) {
  if (state_ != State::Queued || ticket != ticket_) return;  // stale wake-up
  proxy::Server* s = be_->cancel(pending_);
  if (s == nullptr) return;  // still queued: a spurious wake
  loop_.cancel(timer_);
  srv_ = s;
  last_srv_ = s;
  srv_->counters().enter();
  t_queue_done_ = loop_.now_ms();
  connect();
}

// ---------------------------------------------------------------- connect

std::uint16_t TcpSession::client_dest_port() {
  const sockaddr_storage* d = destination();
  if (d == nullptr) return 0;
  const sockaddr_storage& local = *d;
  if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(local).sin_port);
  if (local.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(local).sin6_port);
  return 0;
}

void TcpSession::connect() {
  const config::ServerDef& def = srv_->def();
  config::Address dst = srv_->addr();
  if (def.port_from_client || def.port_offset_set) {
    int port = def.port_from_client ? client_dest_port() : srv_->addr().port();
    if (def.port_offset_set) port += def.port_offset;
    set_port(dst, static_cast<std::uint16_t>(port));
  }
  checks::OutgoingOptions opts;
  if (def.source)
    opts.source = &*def.source;
  else if (be_->def().source)
    opts.source = &*be_->def().source;
  opts.keepalive = def.tcpka || be_->def().srvtcpka;

  state_ = State::Connecting;
  srv_link_.attach(srv_->links(), loop_.thread_index());
  t_connect_ = loop_.now_ms();
  server_ = Side{};
  server_.owner = this;
  int err = 0;
  proxy::count_connect(*be_, *srv_, false);
  int fd = checks::open_outgoing(dst, opts, err);
  if (fd < 0) {
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
        err == EADDRNOTAVAIL) {
      release_server();
      abort(TermCause::Resource, TermPhase::Connect);
      return;
    }
    connect_failed(false);
    return;
  }
  server_.fd = fd;
  server_.nagle.reset(dst.family() != AF_UNIX);
  server_.last = t_connect_;
  // Speculative I/O: read what the client sent so far, and if there is
  // something, send it now. A loopback (or any fast) connect() has usually
  // completed by the time it returns, so the send succeeds and the session
  // relays at once instead of waking up for the connect's EPOLLOUT.
  if (pump(req_, false) == Pump::Abort) return;
  if (spec_try_) {
    spec_try_ = false;
    first_read_gate().record(req_.tail > req_.head || client_.eof);
  }
  const Early early = req_.tail > req_.head ? early_send() : Early::Wait;
  if (early != Early::Batched) after_early(early);
}

void TcpSession::on_batch_sent(ssize_t result) {
  batched_ = false;
  if (state_ != State::Connecting || server_.fd < 0) return;
  after_early(early_result(result));
}

void TcpSession::after_early(Early early) {
  const int fd = server_.fd;
  if (early == Early::Failed) {
    connect_failed(false);
    return;
  }
  server_.out_armed = early == Early::Wait || !server_.writable;
  if (!loop_.add(fd, &server_,
                 server_.out_armed ? core::Loop::kStreamEvents : core::Loop::kReadEvents)) {
    connect_failed(false);
    return;
  }
  if (early == Early::Sent) {
    on_connected(0);
    return;
  }
  if (auto tc = be_->timeout_connect())
    loop_.arm(timer_, *tc);
  else
    loop_.cancel(timer_);
}

TcpSession::Early TcpSession::early_send() {
  const std::size_t len = req_.tail - req_.head;
  nagle_before_ = server_.nagle;
  server_.nagle.before_send(server_.fd, len);
  core::SendBatch& batch = loop_.send_batch();
  if (batch.available()) {
    const iovec v{req_.buf.get() + req_.head, len};
    batch.queue(server_.fd, &v, 1, this);
    batched_ = true;
    // Bounded like any connect, although the result comes this loop turn.
    if (auto tc = be_->timeout_connect()) loop_.arm(timer_, *tc);
    return Early::Batched;
  }
  ssize_t n = ::send(server_.fd, req_.buf.get() + req_.head, len, MSG_NOSIGNAL);
  if (n < 0) n = -errno;
  return early_result(n);
}

// The first send's result (bytes, or -errno), made now or by the batch.
TcpSession::Early TcpSession::early_result(ssize_t n) {
  if (n < 0) {
    // Not sent: the next attempt is still the connection's first write.
    if (!server_.nagle.on()) server_.nagle = nagle_before_;
    // EAGAIN: the handshake is still in progress (SYN_SENT). Anything else
    // is the connect's own failure (ECONNREFUSED, EPIPE...).
    if (n == -EAGAIN || n == -EWOULDBLOCK || n == -EINTR) return Early::Wait;
    return Early::Failed;
  }
  req_.head += static_cast<std::size_t>(n);
  server_.writable = req_.head == req_.tail;
  if (server_.writable) req_.head = req_.tail = 0;
  return Early::Sent;
}

void TcpSession::on_connected(std::uint32_t events) {
  int soerr = 0;
  // A failed connect always reports EPOLLERR (and EPOLLHUP): a plain
  // EPOLLOUT means it succeeded, without asking SO_ERROR.
  if (events & (EPOLLERR | EPOLLHUP)) {
    socklen_t len = sizeof soerr;
    ::getsockopt(server_.fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  }
  if (soerr != 0 || server_.error) {
    connect_failed(false);
    return;
  }
  tc_ = loop_.now_ms() - t_connect_;
  srv_->observe(proxy::Observed::L4Ok);
  state_ = State::Relay;
  loop_.cancel(timer_);
  std::int64_t now = loop_.now_ms();
  server_.last = now;
  client_.last = now;
  relay();
}

bool TcpSession::want_out(Side& s) {
  if (s.out_armed || s.fd < 0) return true;
  // EPOLL_CTL_MOD checks readiness itself: space freed since the stalled
  // write still raises the edge.
  s.out_armed = loop_.modify(s.fd, &s, core::Loop::kStreamEvents);
  return s.out_armed;
}

TcpSession::Pump TcpSession::stalled(Side& dst) {
  dst.writable = false;
  if (want_out(dst)) return Pump::Ok;
  // No write edge would ever come (epoll refused, ENOMEM): end it now
  // rather than at the timeout.
  abort(TermCause::Resource, TermPhase::Data);
  return Pump::Abort;
}

void TcpSession::close_side(Side& s) {
  if (&s == &server_ && batched_) {
    batched_ = false;
    loop_.send_batch().cancel(this);
  }
  if (s.fd >= 0) {
    loop_.close_soon(s.fd);  // closing drops it from epoll: no epoll_ctl(DEL)
    s.fd = -1;
  }
}

void TcpSession::release_server() {
  if (srv_ == nullptr) return;
  proxy::Server* s = srv_;
  srv_ = nullptr;
  srv_link_.detach();
  s->counters().leave();
  be_->release(*s);
}

void TcpSession::connect_failed(bool timeout) {
  loop_.cancel(timer_);
  close_side(server_);
  server_ = Side{};
  server_.owner = this;
  timed_out_connect_ = timeout;
  proxy::Server* prev = srv_;
  prev->observe(proxy::Observed::L4Err);
  release_server();

  unsigned max_retries = be_->def().retries;
  if (retries_ >= max_retries) {
    // econ counts sessions that gave up connecting (retries are wretr), as HAProxy.
    prev->counters().connect_errors.fetch_add(1, std::memory_order_relaxed);
    be_->counters().connect_errors.fetch_add(1, std::memory_order_relaxed);
    abort(timeout ? TermCause::ServerTimeout : TermCause::ServerAbort, TermPhase::Connect);
    return;
  }
  ++retries_;
  const config::Proxy& bd = be_->def();
  bool redisp = false;
  if (bd.redispatch && bd.redispatch_interval != 0) {
    int r = bd.redispatch_interval;
    int done = static_cast<int>(retries_);
    bool on_interval = false;
    if (r > 0) {
      on_interval = done % r == 0;
    } else {
      int every = static_cast<int>(max_retries) + 1 + r;
      on_interval = every > 0 && done % every == 0;
    }
    redisp = !prev->usable() || on_interval || (be_->rr_kind() && be_->active_up() > 1);
  }
  if (redisp) {
    redispatched_ = true;
    prev->counters().redispatches.fetch_add(1, std::memory_order_relaxed);
    be_->counters().redispatches.fetch_add(1, std::memory_order_relaxed);
    assign();
    return;
  }
  prev->counters().retries.fetch_add(1, std::memory_order_relaxed);
  be_->counters().retries.fetch_add(1, std::memory_order_relaxed);
  last_srv_ = prev;
  if (timeout) {
    // A timeout already waited long enough: retry at once.
    retry_same_server();
    return;
  }
  // Turn-around: don't hammer a server that is restarting.
  state_ = State::TurnAround;
  srv_ = nullptr;
  std::chrono::milliseconds wait{1000};
  if (auto tc = be_->timeout_connect()) wait = std::min(wait, *tc);
  loop_.arm(timer_, wait);
}

void TcpSession::retry_same_server() {
  proxy::Server* s = const_cast<proxy::Server*>(last_srv_);
  if (s->try_acquire()) {
    srv_ = s;
    srv_->counters().enter();
    connect();
    return;
  }
  // Full: wait for this server (its maxqueue applies), else anyone.
  state_ = State::Queued;
  ++ticket_;
  if (be_->enqueue(pending_, s, loop_, *this, ticket_, loop_.now_ms()) ==
      proxy::Backend::Enqueued::Yes) {
    queued_forced_ = true;
    srv_queue_pos_ = pending_.position;
    if (auto tq = be_->timeout_queue()) loop_.arm(timer_, *tq);
    return;
  }
  assign();
}

// ---------------------------------------------------------------- events

void TcpSession::on_side_events(Side& s, std::uint32_t ev) {
  if (s.fd < 0 || !active()) return;
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s.readable = true;
  if (ev & EPOLLRDHUP) s.rdhup = true;
  if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) s.writable = true;
  if (ev & EPOLLERR) s.error = true;

  if (state_ == State::Relay) {
    relay();
    return;
  }
  if (&s == &server_) {
    if (state_ == State::Connecting && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) on_connected(ev);
    return;
  }
  // Client activity before a server is connected: buffer what it sends (so
  // a later close is a clean FIN) and notice an abort.
  TermPhase phase = state_ == State::Connecting ? TermPhase::Connect : TermPhase::Queue;
  if (client_.error) {
    abort(TermCause::ClientAbort, phase);
    return;
  }
  if (pump(req_, false) == Pump::Abort) return;
}

void TcpSession::on_timer() {
  switch (state_) {
    case State::Queued: {
      proxy::Server* s = be_->cancel(pending_);
      if (s != nullptr) {  // granted just now: take it
        srv_ = s;
        last_srv_ = s;
        srv_->counters().enter();
        t_queue_done_ = loop_.now_ms();
        connect();
        return;
      }
      be_->counters().queue_timeouts.fetch_add(1, std::memory_order_relaxed);
      t_queue_done_ = -1;
      if (!queued_forced_) last_srv_ = nullptr;
      abort(TermCause::ServerTimeout, TermPhase::Queue);
      return;
    }
    case State::TurnAround:
      retry_same_server();
      return;
    case State::Connecting:
      connect_failed(true);
      return;
    case State::Relay: {
      std::int64_t now = loop_.now_ms();
      if (side_deadline(client_) <= now) {
        abort(TermCause::ClientTimeout, TermPhase::Data);
        return;
      }
      if (side_deadline(server_) <= now) {
        abort(TermCause::ServerTimeout, TermPhase::Data);
        return;
      }
      rearm_relay_timer();
      return;
    }
    default:
      return;
  }
}

// ---------------------------------------------------------------- relay

std::int64_t TcpSession::side_deadline(const Side& s) const {
  bool is_client = &s == &client_;
  const Direction& toward = is_client ? res_ : req_;
  // A side is waited on while we expect to read from it or to write to it.
  bool waiting = !s.eof || (toward.pending() && !s.writable);
  if (!waiting) return kNever;
  const config::Timeouts& ft = fe_->def().timeouts;
  const config::Timeouts& bt = be_->def().timeouts;
  std::optional<std::chrono::milliseconds> t;
  if (is_client) {
    if (s.shut_wr && ft.client_fin)
      t = ft.client_fin;
    else if (bt.tunnel)
      t = bt.tunnel;
    else
      t = ft.client;
  } else {
    if (s.shut_wr && bt.server_fin)
      t = bt.server_fin;
    else if (bt.tunnel)
      t = bt.tunnel;
    else
      t = bt.server;
  }
  if (!t) return kNever;
  return s.last + t->count();
}

void TcpSession::rearm_relay_timer() {
  std::int64_t d = std::min(side_deadline(client_), side_deadline(server_));
  if (d == kNever) {
    loop_.cancel(timer_);
    return;
  }
  // Activity only moves deadlines later: an armed earlier timer is checked
  // lazily on expiry instead of being re-armed on every read.
  if (!timer_.armed() || d < timer_.deadline_ms()) loop_.arm_at(timer_, d);
}

void TcpSession::relay() {
  if (client_.error) {
    abort(TermCause::ClientAbort, TermPhase::Data);
    return;
  }
  if (server_.error) {
    abort(TermCause::ServerAbort, TermPhase::Data);
    return;
  }
  if (pump(req_, true) == Pump::Abort) return;
  if (pump(res_, true) == Pump::Abort) return;
  bool req_done = client_.eof && !req_.pending() && server_.shut_wr;
  bool res_done = server_.eof && !res_.pending() && client_.shut_wr;
  if (req_done && res_done) {
    finish();
    return;
  }
  rearm_relay_timer();
}

void TcpSession::put_buffer(Direction& d) {
  if (!d.buf) return;
  if (d.cap > host_.buffers().buffer_size())
    host_.buffers().put_large(std::move(d.buf));
  else
    host_.buffers().put(std::move(d.buf));
  d.cap = 0;
}

void TcpSession::shut_dst(Direction& d) {
  Side& dst = *d.dst;
  if (dst.shut_wr) return;
  Direction& o = other(d);
  const bool other_done = o.src->eof && !o.pending() && o.dst->shut_wr;
  if (!other_done) ::shutdown(dst.fd, SHUT_WR);
  dst.shut_wr = true;
  dst.last = loop_.now_ms();
}

TcpSession::Pump TcpSession::pump(Direction& d, bool can_write) {
  if (d.splice && can_write) return pump_splice(d, can_write);
  Side& src = *d.src;
  Side& dst = *d.dst;
  const bool from_client = &src == &client_;
  BufferPool& pool = host_.buffers();
  const std::size_t small = pool.buffer_size();
  for (;;) {
    if (d.tail > d.head) {
      if (!can_write || !dst.writable) return Pump::Ok;
      dst.nagle.before_send(dst.fd, d.tail - d.head);
      ssize_t n = ::send(dst.fd, d.buf.get() + d.head, d.tail - d.head, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return stalled(dst);
        if (errno == EINTR) continue;
        abort(from_client ? TermCause::ServerAbort : TermCause::ClientAbort, TermPhase::Data);
        return Pump::Abort;
      }
      d.head += static_cast<std::size_t>(n);
      dst.last = loop_.now_ms();
      if (d.head < d.tail) {  // the socket is full: wait for EPOLLOUT
        // A destination that does not keep up gains nothing from large
        // reads: read small again, so a slow reader pins a small buffer.
        d.streaming = false;
        return stalled(dst);
      }
      d.head = d.tail = 0;
    }
    if (src.eof) {
      if (can_write) shut_dst(d);
      put_buffer(d);
      return Pump::Ok;
    }
    if (!src.readable) {
      // Idle direction: give the buffer back until the next edge.
      put_buffer(d);
      return Pump::Ok;
    }
    // The buffer is empty here. A direction whose reads fill the small
    // buffer is streaming: read (and so write) in large pieces.
    if (d.streaming != (d.cap > small)) put_buffer(d);
    if (!d.buf) {
      if (d.streaming) {
        d.buf = pool.get_large();
        d.cap = pool.large_size();
      } else {
        d.buf = pool.get();
        d.cap = small;
      }
    }
    const std::size_t cap = d.cap;
    ssize_t n = ::recv(src.fd, d.buf.get(), cap, 0);
    if (n > 0) {
      d.tail = static_cast<std::size_t>(n);
      d.head = 0;
      d.bytes += static_cast<std::uint64_t>(n);
      src.last = loop_.now_ms();
      // Streaming: the read filled a small buffer's worth.
      d.streaming = static_cast<std::size_t>(n) >= small && pool.large_size() > small;
      if (static_cast<std::size_t>(n) < cap) {
        // Short read: the socket is drained; wait for the next edge. If the
        // peer's FIN was already signalled, it comes right after this data.
        src.readable = false;
        if (src.rdhup) src.eof = true;
      }
      continue;
    }
    if (n == 0) {
      src.eof = true;
      src.readable = false;
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      src.readable = false;
      continue;
    }
    if (errno == EINTR) continue;
    abort(from_client ? TermCause::ClientAbort : TermCause::ServerAbort, TermPhase::Data);
    return Pump::Abort;
  }
}

TcpSession::Pump TcpSession::pump_splice(Direction& d, bool can_write) {
  Side& src = *d.src;
  Side& dst = *d.dst;
  const bool from_client = &src == &client_;
  if (d.tail > d.head) {
    // Data buffered before the server connected: flush it by copy first.
    d.splice = false;
    Pump p = pump(d, can_write);
    d.splice = true;
    if (p == Pump::Abort || d.tail > d.head) return p;
  }
  if (!d.pipe.valid()) {
    d.pipe = host_.pipes().get();
    if (!d.pipe.valid()) {
      d.splice = false;
      return pump(d, can_write);
    }
  }
  for (;;) {
    if (d.in_pipe > 0) {
      if (!dst.writable) return Pump::Ok;
      dst.nagle.before_send(dst.fd, d.in_pipe);
      ssize_t n = ::splice(d.pipe.rd, nullptr, dst.fd, nullptr, d.in_pipe,
                           SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
      if (n < 0) {
        if (errno == EAGAIN) return stalled(dst);
        if (errno == EINTR) continue;
        abort(from_client ? TermCause::ServerAbort : TermCause::ClientAbort, TermPhase::Data);
        return Pump::Abort;
      }
      d.in_pipe -= static_cast<std::size_t>(n);
      dst.last = loop_.now_ms();
      if (d.in_pipe > 0) return stalled(dst);
    }
    if (src.eof) {
      shut_dst(d);
      return Pump::Ok;
    }
    if (!src.readable) return Pump::Ok;
    // A short splice does not prove the socket is drained (the pipe may fill
    // by segments), so splice until EAGAIN on this path.
    ssize_t n = ::splice(src.fd, nullptr, d.pipe.wr, nullptr, d.pipe.size,
                         SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
    if (n > 0) {
      d.in_pipe = static_cast<std::size_t>(n);
      d.bytes += static_cast<std::uint64_t>(n);
      src.last = loop_.now_ms();
      continue;
    }
    if (n == 0) {
      src.eof = true;
      src.readable = false;
      continue;
    }
    if (errno == EAGAIN) {
      src.readable = false;
      if (src.rdhup) {
        // FIN seen and nothing left: a plain read confirms EOF.
        src.readable = true;
        d.splice = false;
        Pump p = pump(d, can_write);
        d.splice = true;
        return p;
      }
      return Pump::Ok;
    }
    if (errno == EINTR) continue;
    if (errno == EINVAL || errno == ENOSYS) {  // not spliceable: copy from now on
      d.splice = false;
      return pump(d, can_write);
    }
    abort(from_client ? TermCause::ClientAbort : TermCause::ServerAbort, TermPhase::Data);
    return Pump::Abort;
  }
}

// ---------------------------------------------------------------- end

// on-marked-down / on-marked-up / `shutdown sessions server`.
void TcpSession::on_server_shutdown(void* self, TermCause c) {
  auto* t = static_cast<TcpSession*>(self);
  t->abort(c, t->state_ == State::Relay ? TermPhase::Data : TermPhase::Connect);
}

void TcpSession::abort(TermCause c, TermPhase p) {
  term_.set(c, p);
  finish();
}

void TcpSession::release_direction(Direction& d) {
  put_buffer(d);
  d.head = d.tail = 0;
  if (d.pipe.valid()) host_.pipes().put(d.pipe, d.in_pipe == 0);
  d.pipe = Pipe{};
  d.in_pipe = 0;
}

void TcpSession::finish() {
  if (!active()) return;
  State was = state_;
  state_ = State::Closed;
  loop_.cancel(timer_);
  if (was == State::Queued && be_ != nullptr) {
    if (proxy::Server* g = be_->cancel(pending_)) be_->release(*g);
  }
  if (fe_->log_format() != nullptr) (void)destination();  // %fi/%fp after the close
  close_side(server_);
  close_side(client_);
  release_direction(req_);
  release_direction(res_);
  if (be_ != nullptr) {
    auto& bc = be_->counters();
    bc.bytes_in.fetch_add(req_.bytes, std::memory_order_relaxed);
    bc.bytes_out.fetch_add(res_.bytes, std::memory_order_relaxed);
    if (last_srv_ != nullptr) {
      auto& sc = const_cast<proxy::Server*>(last_srv_)->counters();
      sc.bytes_in.fetch_add(req_.bytes, std::memory_order_relaxed);
      sc.bytes_out.fetch_add(res_.bytes, std::memory_order_relaxed);
    }
  }
  auto& fc = fe_->counters();
  fc.bytes_in.fetch_add(req_.bytes, std::memory_order_relaxed);
  fc.bytes_out.fetch_add(res_.bytes, std::memory_order_relaxed);
  release_server();
  if (be_counted_) {
    be_->counters().leave();
    be_counted_ = false;
  }
  proxy::SessionEnd end;
  end.tw = t_queue_done_ >= 0 ? t_queue_done_ - t_accept_ : -1;
  end.tc = tc_;
  end.tt = loop_.now_ms() - t_accept_;
  end.term = term_;
  proxy::account_end(*fe_, be_, const_cast<proxy::Server*>(last_srv_), end);
  log_session();
  host_.session_done(*this);
}

void TcpSession::kill() {
  if (!active()) return;
  state_ = State::Closed;
  loop_.cancel(timer_);
  if (be_ != nullptr) {
    if (proxy::Server* g = be_->cancel(pending_)) be_->release(*g);
  }
  close_side(server_);
  close_side(client_);
  release_direction(req_);
  release_direction(res_);
  release_server();
  if (be_counted_) {
    be_->counters().leave();
    be_counted_ = false;
  }
  host_.session_done(*this);
}

void TcpSession::log_session() {
  if (!fe_->logs_sessions()) return;
  // dontlognull: nothing came from the client.
  if (fe_->def().dontlognull && req_.bytes == 0) return;
  log::TcpLogFields f;
  char addr[INET6_ADDRSTRLEN] = "unix";
  if (peer_.ss_family == AF_INET) {
    auto& a = reinterpret_cast<const sockaddr_in&>(peer_);
    ::inet_ntop(AF_INET, &a.sin_addr, addr, sizeof addr);
    f.client_port = ntohs(a.sin_port);
  } else if (peer_.ss_family == AF_INET6) {
    auto& a = reinterpret_cast<const sockaddr_in6&>(peer_);
    ::inet_ntop(AF_INET6, &a.sin6_addr, addr, sizeof addr);
    f.client_port = ntohs(a.sin6_port);
  }
  f.client_addr = addr;
  f.accept_time = accept_tv_;
  f.frontend = fe_->name();
  f.backend = be_ != nullptr ? std::string_view(be_->name()) : std::string_view(fe_->name());
  f.server = last_srv_ != nullptr ? std::string_view(last_srv_->name()) : "<NOSRV>";
  std::int64_t now = loop_.now_ms();
  f.tw = t_queue_done_ >= 0 ? t_queue_done_ - t_accept_ : -1;
  if (term_.phase == TermPhase::Queue && term_.cause == TermCause::ServerTimeout)
    f.tw = now - t_accept_;
  f.tc = tc_;
  f.tt = now - t_accept_;
  f.bytes_read = res_.bytes;
  f.termination[0] = term_.first();
  f.termination[1] = term_.second();
  f.actconn = host_.active_connections();
  f.feconn = fe_->counters().cur.load(std::memory_order_relaxed);
  f.beconn = be_ != nullptr ? be_->counters().cur.load(std::memory_order_relaxed) : 0;
  f.srv_conn = last_srv_ != nullptr ? last_srv_->counters().cur.load(std::memory_order_relaxed) : 0;
  f.retries = retries_;
  f.redispatched = redispatched_;
  f.srv_queue = srv_queue_pos_;
  f.backend_queue = be_queue_pos_;
  if (const log::LogFormat* lf = fe_->log_format()) {
    log::TcpLogExtras x;
    x.frontend = destination();
    x.server = last_srv_ != nullptr ? &last_srv_->def().addr.storage : nullptr;
    x.bytes_uploaded = req_.bytes;
    x.stream_id = stream_id_;
    x.samples = this;
    char line[2048];
    const std::size_t n = log::format_tcp_custom(*lf, f, x, line, sizeof line);
    fe_->logger()->send(log::Level::Info, std::string_view(line, std::min(n, sizeof line)));
    return;
  }
  fe_->logger()->send(log::Level::Info, log::format_tcplog(f));
}

}  // namespace sluice::tcp

namespace sluice::tcp {

// ---------------------------------------------------------------- samples

const sockaddr_storage* TcpSession::source() const {
  return peer_.ss_family == AF_INET || peer_.ss_family == AF_INET6 ? &peer_ : nullptr;
}

const sockaddr_storage* TcpSession::destination() const {
  if (!local_known_) {
    // Asked only by rules and port-less servers: no getsockname otherwise.
    socklen_t len = sizeof local_;
    if (client_.fd < 0 ||
        ::getsockname(client_.fd, reinterpret_cast<sockaddr*>(&local_), &len) != 0)
      return nullptr;
    local_known_ = true;
  }
  return local_.ss_family == AF_INET || local_.ss_family == AF_INET6 ? &local_ : nullptr;
}

const proxy::Backend* TcpSession::ref_backend(const acl::ProxyRef& r) const {
  if (r.name.empty() && r.id == 0) return be_;
  const proxy::Directory* d = fe_ != nullptr ? fe_->directory() : nullptr;
  return d != nullptr ? d->backend(r) : nullptr;
}

const proxy::Server* TcpSession::ref_server(const acl::ServerRef& r) const {
  const proxy::Backend* b = ref_backend(r.backend);
  if (b == nullptr) return nullptr;
  for (const auto& s : b->servers())
    if ((r.id != 0 && s->def().id == r.id) || (r.id == 0 && s->name() == r.name)) return s.get();
  return nullptr;
}

std::optional<std::int64_t> TcpSession::frontend_conns(const acl::ProxyRef& r) const {
  const proxy::Frontend* f = fe_;
  if (!(r.name.empty() && r.id == 0)) {
    const proxy::Directory* d = fe_ != nullptr ? fe_->directory() : nullptr;
    f = d != nullptr ? d->frontend(r) : nullptr;
  }
  if (f == nullptr) return {};
  return f->counters().cur.load(std::memory_order_relaxed);
}

std::optional<std::int64_t> TcpSession::backend_conns(const acl::ProxyRef& r) const {
  const proxy::Backend* b = ref_backend(r);
  if (b == nullptr) return {};
  return b->counters().cur.load(std::memory_order_relaxed);
}

std::optional<std::int64_t> TcpSession::usable_servers(const acl::ProxyRef& r) const {
  const proxy::Backend* b = ref_backend(r);
  if (b == nullptr) return {};
  return static_cast<std::int64_t>(proxy::usable_members(*b).size() > 0
                                       ? (b->active_up() > 0 ? b->active_up() : b->backup_up())
                                       : 0);
}

std::optional<std::int64_t> TcpSession::server_conns(const acl::ServerRef& r) const {
  const proxy::Server* s = ref_server(r);
  if (s == nullptr) return {};
  return s->connections();
}

std::optional<bool> TcpSession::server_is_up(const acl::ServerRef& r) const {
  const proxy::Server* s = ref_server(r);
  if (s == nullptr) return {};
  return s->usable();
}

std::optional<std::int64_t> TcpSession::frontend_id() const {
  if (fe_ == nullptr) return {};
  return fe_->def().id;
}

std::optional<std::int64_t> TcpSession::backend_id() const {
  if (be_ == nullptr) return {};
  return be_->def().id;
}

}  // namespace sluice::tcp
