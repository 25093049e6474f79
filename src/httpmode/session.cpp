#include "httpmode/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "checks/outgoing.h"
#include "http/status.h"
#include "proxy/accounting.h"
#include "httpmode/cookie.h"
#include "log/httplog.h"
#include "log/logger.h"
#include "proxy/directory.h"

namespace sluice::httpmode {

using proxy::TermCause;
using proxy::TermPhase;

namespace {
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct Out {
  char* p;
  std::size_t cap;
  std::size_t n = 0;
  bool ok = true;
  void put(std::string_view s) {
    if (!ok || n + s.size() > cap) {
      ok = false;
      return;
    }
    std::memcpy(p + n, s.data(), s.size());
    n += s.size();
  }
  void field(std::string_view name, std::string_view value) {
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  }
};

bool net_contains(const config::ForwardFor& ff, const sockaddr_storage& a) {
  const std::uint8_t* bytes = nullptr;
  if (a.ss_family == AF_INET && ff.except_family == AF_INET)
    bytes = reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in&>(a).sin_addr);
  else if (a.ss_family == AF_INET6 && ff.except_family == AF_INET6)
    bytes =
        reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr);
  if (bytes == nullptr) return false;
  unsigned bits = ff.except_prefix;
  for (unsigned i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((bytes[i] & mask) != (ff.except_addr[i] & mask)) return false;
  }
  return true;
}

std::optional<std::chrono::milliseconds> first_of(std::optional<std::chrono::milliseconds> a,
                                                  std::optional<std::chrono::milliseconds> b) {
  return a ? a : b;
}
}  // namespace

HttpSession::HttpSession(HttpHost& host)
    : host_(host), loop_(host.loop()), req_parser_(http::Side::Request),
      res_parser_(http::Side::Response) {
  client_.owner = this;
  timer_.set_callback([this] { on_timer(); });
  const std::size_t sz = host.bufsize();
  req_.buf = std::make_unique<char[]>(sz);
  res_.buf = std::make_unique<char[]>(sz);
  req_.head = std::make_unique<char[]>(sz);
  res_.head = std::make_unique<char[]>(sz);
}

HttpSession::~HttpSession() {
  if (active()) kill();
}

// ---------------------------------------------------------------- accept

void HttpSession::start(int fd, const sockaddr_storage& peer, socklen_t peer_len,
                        proxy::Frontend& fe) {
  client_ = Client{};
  client_.owner = this;
  client_.fd = fd;
  fe_ = &fe;
  be_ = nullptr;
  srv_ = nullptr;
  last_srv_ = nullptr;
  sconn_ = nullptr;
  peer_ = peer;
  peer_len_ = peer_len;
  local_known_ = false;
  req_.len = res_.len = 0;
  req_.reset_msg();
  res_.reset_msg();
  first_request_ = true;
  req_index_ = 0;
  client_port_ = 0;
  std::strcpy(client_addr_, "unix");
  if (peer_.ss_family == AF_INET) {
    auto& a = reinterpret_cast<const sockaddr_in&>(peer_);
    ::inet_ntop(AF_INET, &a.sin_addr, client_addr_, sizeof client_addr_);
    client_port_ = ntohs(a.sin_port);
  } else if (peer_.ss_family == AF_INET6) {
    auto& a = reinterpret_cast<const sockaddr_in6&>(peer_);
    ::inet_ntop(AF_INET6, &a.sin6_addr, client_addr_, sizeof client_addr_);
    client_port_ = ntohs(a.sin6_port);
  }
  if (fe.def().clitcpka) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  }
  phase_ = Phase::ReqHead;
  t_idle_start_ = loop_.now_ms();
  t_req_start_ = -1;
  ::gettimeofday(&req_tv_, nullptr);
  if (!loop_.add(fd, &client_)) {
    close_all(false);
    return;
  }
  rearm_timer();
}

void HttpSession::on_stopping() {
  // Idle between requests with nothing received: the last response did not
  // promise more, but closing now could race a request in flight; let the
  // keep-alive timeout or the next response (with Connection: close) end it.
}

// ---------------------------------------------------------------- events

void HttpSession::on_client_events(std::uint32_t ev) {
  if (!active() || client_.fd < 0) return;
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) client_.readable = true;
  if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) client_.writable = true;
  if (ev & EPOLLERR) client_.error = true;
  progress();
}

void HttpSession::on_server_events(std::uint32_t ev) {
  if (!active() || sconn_ == nullptr) return;
  if (phase_ == Phase::Connecting) {
    if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(ev);
    return;
  }
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s_readable_ = true;
  if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) s_writable_ = true;
  if (ev & EPOLLERR) s_error_ = true;
  progress();
}

void HttpSession::progress() {
  for (int guard = 0; guard < 64 && active(); ++guard) {
    bool moved = false;
    switch (phase_) {
      case Phase::ReqHead: moved = step_req_head(); break;
      case Phase::Exchange: moved = step_exchange(); break;
      case Phase::Tunnel: moved = step_tunnel(); break;
      case Phase::SendError: moved = step_send_error(); break;
      default: break;
    }
    if (!moved) break;
  }
  if (active()) rearm_timer();
}

// ---------------------------------------------------------------- I/O

HttpSession::Io HttpSession::recv_into(int fd, Flow& f, bool& readable, bool& eof) {
  const std::size_t cap = host_.bufsize();
  while (readable && f.len < cap) {
    ssize_t n = ::recv(fd, f.buf.get() + f.len, cap - f.len, 0);
    if (n > 0) {
      f.len += static_cast<std::size_t>(n);
      f.bytes_in += static_cast<std::uint64_t>(n);
      if (f.len < cap) readable = false;  // short read: drained, wait for the edge
      return Io::Ok;
    }
    if (n == 0) {
      eof = true;
      readable = false;
      return Io::Ok;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable = false;
      return Io::Blocked;
    }
    if (errno == EINTR) continue;
    readable = false;
    return Io::Failed;
  }
  return Io::Blocked;
}

HttpSession::Io HttpSession::flush(int fd, Flow& f, bool& writable) {
  for (;;) {
    const char* p;
    std::size_t n;
    bool head = f.head_sent < f.head_len;
    if (head) {
      p = f.head.get() + f.head_sent;
      n = f.head_len - f.head_sent;
    } else if (f.sent < f.fwd) {
      p = f.buf.get() + f.sent;
      n = f.fwd - f.sent;
    } else {
      compact(f);
      return Io::Ok;
    }
    if (!writable) return Io::Blocked;
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        writable = false;
        return Io::Blocked;
      }
      if (errno == EINTR) continue;
      return Io::Failed;
    }
    if (head)
      f.head_sent += static_cast<std::size_t>(w);
    else
      f.sent += static_cast<std::size_t>(w);
    f.bytes_out += static_cast<std::uint64_t>(w);
    if (static_cast<std::size_t>(w) < n) {
      writable = false;
      return Io::Blocked;
    }
  }
}

void HttpSession::compact(Flow& f) {
  if (f.fwd == 0 || f.sent < f.fwd) return;
  std::memmove(f.buf.get(), f.buf.get() + f.fwd, f.len - f.fwd);
  f.len -= f.fwd;
  f.fwd = f.sent = 0;
}

// ---------------------------------------------------------------- request head

bool HttpSession::step_req_head() {
  bool moved = false;
  if (client_.error) {
    close_all(false);
    return false;
  }
  if (req_.len == 0 && !client_.eof) {
    if (recv_into(client_.fd, req_, client_.readable, client_.eof) == Io::Failed) {
      close_all(false);
      return false;
    }
    moved = req_.len > 0 || client_.eof;
  }
  if (req_.len > 0 && t_req_start_ < 0) {
    t_req_start_ = loop_.now_ms();
    if (!first_request_) ::gettimeofday(&req_tv_, nullptr);
  }
  if (req_.len == 0) {
    if (client_.eof) {
      // Closed between requests (or before the first one): nothing to answer.
      if (first_request_ && !fe_->def().dontlognull) {
        term_.set(TermCause::ClientAbort, TermPhase::Request);
        close_all(true);
      } else {
        close_all(false);
      }
    }
    return false;
  }
  for (;;) {
    http::HeadResult r = req_parser_.parse(std::string_view(req_.buf.get(), req_.len));
    if (r.state == http::ParseState::Done) {
      on_request_head();
      return true;
    }
    if (r.state == http::ParseState::Error) {
      fail(r.failure.status, TermCause::ProxyAbort, TermPhase::Request);
      return true;
    }
    if (client_.eof) {
      term_.set(TermCause::ClientAbort, TermPhase::Request);
      fail(400, TermCause::ClientAbort, TermPhase::Request);
      return true;
    }
    std::size_t before = req_.len;
    if (recv_into(client_.fd, req_, client_.readable, client_.eof) == Io::Failed) {
      close_all(false);
      return false;
    }
    if (req_.len == before && !client_.eof) return moved;
    moved = true;
  }
}

void HttpSession::on_request_head() {
  t_head_ = loop_.now_ms();
  const http::Head& h = req_parser_.head();
  http::MessageView v = req_parser_.view(std::string_view(req_.buf.get(), req_.len));
  std::string_view line = v.start_line();
  reqline_len_ = std::min(line.size(), sizeof reqline_);
  std::memcpy(reqline_, line.data(), reqline_len_);
  res_parser_.reset();
  res_parser_.set_request_method(h.method);
  res_.reset_msg();
  status_ = -1;
  term_ = proxy::Termination{};
  ck_client_ = ck_server_ = '-';
  cookie_srv_ = nullptr;
  cookie_seen_ = false;
  retries_ = 0;
  redispatched_ = false;
  tc_ = -1;
  t_res_ = -1;
  t_queue_done_ = -1;
  tunnel_ = false;
  s_shut_wr_ = false;
  last_srv_ = nullptr;
  ++req_index_;
  route();
}

// ---------------------------------------------------------------- route

void HttpSession::route() {
  proxy::Backend* be = nullptr;
  for (const auto& r : fe_->routes()) {
    if (r.cond && !r.cond->evaluate(*this)) continue;
    be = r.backend;
    break;
  }
  if (be == nullptr) be = fe_->default_backend();
  if (be == nullptr) {
    fail(503, TermCause::ProxyAbort, TermPhase::Request);
    return;
  }
  be_ = be;
  be_->counters().enter();
  be_counted_ = true;

  const config::Proxy& fd = fe_->def();
  const config::Proxy& bd = be_->def();
  const http::Head& h = req_parser_.head();
  close_client_ = fd.http_conn_mode == config::HttpConnMode::Close || !h.keep_alive() ||
                  host_.stopping();
  close_server_ = fd.http_conn_mode != config::HttpConnMode::KeepAlive ||
                  bd.http_conn_mode != config::HttpConnMode::KeepAlive ||
                  bd.http_reuse == config::HttpReuse::Never;

  // Cookie persistence: a valid cookie naming a usable server wins.
  const config::CookieDef& ck = bd.cookie;
  if (!ck.name.empty()) {
    ck_client_ = 'N';
    ck_server_ = 'N';
    http::MessageView v = req_parser_.view(std::string_view(req_.buf.get(), req_.len));
    for (auto f : v) {
      if (!http::iequals(f.name, "cookie")) continue;
      if (auto val = find_cookie(f.value, ck.name)) {
        cookie_seen_ = true;
        ck_client_ = 'I';
        for (const auto& s : be_->servers()) {
          if (!s->def().cookie.empty() && s->def().cookie == *val) {
            cookie_srv_ = s.get();
            break;
          }
        }
      }
    }
  }
  build_request_head();
  if (phase_ != Phase::ReqHead) return;  // the head did not fit: answered already
  if (cookie_srv_ != nullptr) {
    proxy::Server* s = const_cast<proxy::Server*>(cookie_srv_);
    if (s->usable() || !bd.redispatch) {
      ck_client_ = 'V';
      if (s->try_acquire()) {
        got_server(s);
        return;
      }
    } else {
      ck_client_ = 'D';
    }
  }
  assign();
}

void HttpSession::build_request_head() {
  const config::Proxy& bd = be_->def();
  const config::Proxy& fd = fe_->def();
  const http::Head& h = req_parser_.head();
  http::MessageView v = req_parser_.view(std::string_view(req_.buf.get(), req_.len));
  Out o{req_.head.get(), host_.bufsize()};
  o.put(v.method());
  o.put(" ");
  o.put(v.target());
  o.put(h.version_minor >= 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
  const config::CookieDef& ck = bd.cookie;
  const bool strip = !ck.name.empty() && ck.indirect && cookie_seen_ &&
                     ck.method == config::CookieDef::Method::Insert;
  const config::ForwardFor& ff = bd.forwardfor.enabled ? bd.forwardfor : fd.forwardfor;
  bool xff_present = false;
  char tmp[4096];
  for (auto f : v) {
    if (http::iequals(f.name, "connection")) continue;  // ours below
    if (ff.enabled && http::iequals(f.name, ff.header)) xff_present = true;
    if (strip && http::iequals(f.name, "cookie")) {
      std::size_t n = strip_cookie(f.value, ck.name, tmp, sizeof tmp);
      if (n > 0) o.field(f.name, std::string_view(tmp, n));
      continue;
    }
    o.field(f.name, f.value);
  }
  if (ff.enabled && !(ff.if_none && xff_present) &&
      (peer_.ss_family == AF_INET || peer_.ss_family == AF_INET6) &&
      !(ff.has_except && net_contains(ff, peer_)))
    o.field(ff.header, client_addr_);
  if (h.has(http::flag::kConnUpgrade) && h.has(http::flag::kUpgrade))
    o.field("Connection", "upgrade");
  else if (close_server_)
    o.field("Connection", "close");
  else if (!h.http11())
    o.field("Connection", "keep-alive");
  o.put("\r\n");
  if (!o.ok) {
    req_.head_len = 0;
    fail(431, TermCause::ProxyAbort, TermPhase::Request);
    return;
  }
  req_.head_len = o.n;
  req_.head_sent = 0;
  // The head is rewritten: drop its received bytes; the body follows.
  std::uint32_t hl = h.length;
  std::memmove(req_.buf.get(), req_.buf.get() + hl, req_.len - hl);
  req_.len -= hl;
  req_.fwd = req_.sent = 0;
  req_.dec.start(h);
  req_.body_done = h.framing == http::Framing::None;
  req_.head_done = true;
}

// ---------------------------------------------------------------- pick

void HttpSession::assign() {
  if (phase_ == Phase::SendError || !active()) return;
  lb::PickInput in;
  proxy::Server* s = nullptr;
  auto outcome = host_.balancer(*be_).pick(in, s);
  if (outcome == proxy::ThreadBalancer::Outcome::Picked) {
    got_server(s);
    return;
  }
  if (outcome == proxy::ThreadBalancer::Outcome::NoServer) {
    fail(503, TermCause::ServerAbort, TermPhase::Connect);
    return;
  }
  phase_ = Phase::Queued;
  ++ticket_;
  be_->enqueue(pending_, outcome == proxy::ThreadBalancer::Outcome::ServerFull ? s : nullptr,
               loop_, *this, ticket_, loop_.now_ms());
  rearm_timer();
}

void HttpSession::on_slot_granted(std::uint32_t ticket) {
  if (phase_ != Phase::Queued || ticket != ticket_) return;
  proxy::Server* s = be_->cancel(pending_);
  if (s == nullptr) return;
  got_server(s);
}

void HttpSession::got_server(proxy::Server* s) {
  srv_ = s;
  last_srv_ = s;
  srv_->counters().enter();
  be_->counters().lbtot.fetch_add(1, std::memory_order_relaxed);
  t_queue_done_ = loop_.now_ms();
  const config::CookieDef& ck = be_->def().cookie;
  if (!ck.name.empty() && ck_client_ == 'V' && cookie_srv_ != s) ck_client_ = 'D';
  connect();
}

// ---------------------------------------------------------------- connect

void HttpSession::connect() {
  const config::Proxy& bd = be_->def();
  // Reuse an idle connection: after the first request of this client
  // connection ("safe"), or always ("aggressive", "always").
  if (sconn_ == nullptr && bd.http_reuse != config::HttpReuse::Never &&
      (!first_request_ || bd.http_reuse == config::HttpReuse::Aggressive ||
       bd.http_reuse == config::HttpReuse::Always)) {
    sconn_ = host_.server_conns().take_idle(srv_, this);
    if (sconn_ != nullptr) {
      proxy::count_connect(*be_, *srv_, true);
      s_readable_ = s_eof_ = s_error_ = false;
      s_writable_ = true;
      tc_ = 0;
      phase_ = Phase::Exchange;
      last_server_ = last_client_ = loop_.now_ms();
      progress();
      return;
    }
  }
  const config::ServerDef& def = srv_->def();
  checks::OutgoingOptions opts;
  if (def.source)
    opts.source = &*def.source;
  else if (bd.source)
    opts.source = &*bd.source;
  opts.keepalive = def.tcpka || bd.srvtcpka;
  phase_ = Phase::Connecting;
  t_connect_ = loop_.now_ms();
  int err = 0;
  proxy::count_connect(*be_, *srv_, false);
  int fd = checks::open_outgoing(srv_->addr(), opts, err);
  if (fd < 0) {
    connect_failed(false);
    return;
  }
  sconn_ = host_.server_conns().make(this);
  sconn_->fd = fd;
  sconn_->server = srv_;
  s_readable_ = s_writable_ = s_eof_ = s_error_ = false;
  if (!loop_.add(fd, sconn_)) {
    connect_failed(false);
    return;
  }
  rearm_timer();
}

void HttpSession::on_connected(std::uint32_t events) {
  int soerr = 0;
  if (events & (EPOLLERR | EPOLLHUP)) {
    socklen_t len = sizeof soerr;
    ::getsockopt(sconn_->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr == 0) soerr = ECONNRESET;
  }
  if (soerr != 0) {
    connect_failed(false);
    return;
  }
  tc_ = loop_.now_ms() - t_connect_;
  s_writable_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP)) s_readable_ = true;
  phase_ = Phase::Exchange;
  last_server_ = last_client_ = loop_.now_ms();
  progress();
}

void HttpSession::release_server() {
  if (srv_ == nullptr) return;
  proxy::Server* s = srv_;
  srv_ = nullptr;
  s->counters().leave();
  be_->release(*s);
}

void HttpSession::connect_failed(bool timeout) {
  if (sconn_ != nullptr) {
    host_.server_conns().discard(sconn_);
    sconn_ = nullptr;
  }
  proxy::Server* prev = srv_;
  release_server();
  const config::Proxy& bd = be_->def();
  if (retries_ >= bd.retries) {
    // econ counts requests that gave up connecting (retries are wretr), as HAProxy.
    prev->counters().connect_errors.fetch_add(1, std::memory_order_relaxed);
    be_->counters().connect_errors.fetch_add(1, std::memory_order_relaxed);
    fail(503, timeout ? TermCause::ServerTimeout : TermCause::ServerAbort, TermPhase::Connect);
    return;
  }
  ++retries_;
  // Redispatch on the last retry (HAProxy's default interval), or when the
  // server is gone.
  bool redisp = bd.redispatch && (retries_ >= bd.retries || !prev->usable());
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
    retry_same_server();
    return;
  }
  phase_ = Phase::TurnAround;
  std::chrono::milliseconds wait{1000};
  if (auto tc = be_->timeout_connect()) wait = std::min(wait, *tc);
  loop_.arm(timer_, wait);
}

void HttpSession::retry_same_server() {
  proxy::Server* s = const_cast<proxy::Server*>(last_srv_);
  if (s->try_acquire()) {
    srv_ = s;
    srv_->counters().enter();
    connect();
    return;
  }
  assign();
}

// ---------------------------------------------------------------- exchange

bool HttpSession::step_exchange() {
  bool moved = false;
  if (client_.error) {
    term_.set(TermCause::ClientAbort, res_.head_done ? TermPhase::Data : TermPhase::Headers);
    close_all(true);
    return false;
  }
  // Request: head then body toward the server.
  if (flush(sconn_->fd, req_, s_writable_) == Io::Failed) {
    s_error_ = true;
  }
  if (!req_.body_done && req_.head_sent == req_.head_len) {
    if (req_.fwd == req_.sent) {
      switch (decode_body(req_)) {
        case Decoded::Error:
          fail(400, TermCause::ClientAbort, TermPhase::Data);
          return false;
        case Decoded::Progress:
          moved = true;
          break;
        case Decoded::None:
          break;
      }
      if (flush(sconn_->fd, req_, s_writable_) == Io::Failed) s_error_ = true;
    }
    if (!req_.body_done && req_.fwd == req_.len && client_.readable && !client_.eof) {
      std::size_t before = req_.len;
      if (recv_into(client_.fd, req_, client_.readable, client_.eof) == Io::Failed)
        client_.error = true;
      if (req_.len != before) {
        last_client_ = loop_.now_ms();
        moved = true;
      }
    }
    if (!req_.body_done && client_.eof && req_.fwd == req_.len) {
      term_.set(TermCause::ClientAbort, TermPhase::Data);
      close_all(true);
      return false;
    }
  }
  // Response: read, parse the head, forward head and body.
  if (s_readable_ && !s_eof_ && res_.len < host_.bufsize()) {
    std::size_t before = res_.len;
    if (recv_into(sconn_->fd, res_, s_readable_, s_eof_) == Io::Failed) s_error_ = true;
    if (res_.len != before || s_eof_) {
      last_server_ = loop_.now_ms();
      moved = true;
    }
  }
  if (!res_.head_done) {
    if (res_.len > 0 && res_.head_sent == res_.head_len) {
      http::HeadResult r = res_parser_.parse(std::string_view(res_.buf.get(), res_.len));
      if (r.state == http::ParseState::Error) {
        term_.set(TermCause::ProxyAbort, TermPhase::Headers);
        fail(502, TermCause::ProxyAbort, TermPhase::Headers);
        return false;
      }
      if (r.state == http::ParseState::Done) {
        if (!on_response_head()) return false;
        moved = true;
      }
    }
    if (!res_.head_done && (s_eof_ || s_error_)) {
      bool empty = res_.len == 0;
      if (empty && sconn_->reused && req_.body_done && req_.sent == req_.fwd &&
          req_.fwd == 0) {
        // An idle connection the server closed as we reused it: try a new one.
        host_.server_conns().discard(sconn_);
        sconn_ = nullptr;
        req_.head_sent = 0;
        first_request_ = true;  // force a fresh connection
        connect();
        first_request_ = false;
        return false;
      }
      fail(502, TermCause::ServerAbort, TermPhase::Headers);
      return false;
    }
  }
  if (res_.head_done) {
    if (!res_.body_done && res_.fwd == res_.sent) {
      Decoded d = decode_body(res_);
      if (d == Decoded::Error) {
        term_.set(TermCause::ServerAbort, TermPhase::Data);
        close_all(true);
        return false;
      }
      if (d == Decoded::Progress) moved = true;
    }
    if (!res_.body_done && s_eof_ && res_.fwd == res_.len) {
      http::BodyEvent ev = res_.dec.finish();
      if (ev.kind == http::BodyEvent::Done) {
        res_.body_done = true;
        close_server_ = true;
      } else {
        term_.set(TermCause::ServerAbort, TermPhase::Data);
        flush(client_.fd, res_, client_.writable);
        close_all(true);
        return false;
      }
    }
    Io io = flush(client_.fd, res_, client_.writable);
    if (io == Io::Failed) {
      term_.set(TermCause::ClientAbort, TermPhase::Data);
      close_all(true);
      return false;
    }
    if (res_.body_done && res_.sent == res_.fwd && res_.head_sent == res_.head_len) {
      if (tunnel_) {
        phase_ = Phase::Tunnel;
        req_.dec.start(http::Side::Request, http::Framing::Tunnel, 0);
        res_.dec.start(http::Side::Response, http::Framing::Tunnel, 0);
        req_.body_done = res_.body_done = false;
        return true;
      }
      if (req_.body_done && req_.sent == req_.fwd) {
        end_transaction();
        return true;
      }
      if (!req_.body_done) {
        // The server answered before the body ended: HAProxy closes too.
        close_client_ = true;
        close_server_ = true;
        end_transaction();
        return true;
      }
    }
  }
  if (s_error_ && !res_.head_done) {
    fail(502, TermCause::ServerAbort, TermPhase::Headers);
    return false;
  }
  return moved;
}

// Frames what the buffer holds of the body: every event up to NeedMore or
// Done (an exhausted content-length is Done without more input).
HttpSession::Decoded HttpSession::decode_body(Flow& f) {
  Decoded out = Decoded::None;
  for (int i = 0; i < 1024 && !f.body_done; ++i) {
    http::BodyEvent ev = f.dec.decode(std::string_view(f.buf.get() + f.fwd, f.len - f.fwd));
    if (ev.kind == http::BodyEvent::Error) return Decoded::Error;
    f.fwd += ev.consumed;
    if (ev.consumed > 0) out = Decoded::Progress;
    if (ev.kind == http::BodyEvent::Done) {
      f.body_done = true;
      return Decoded::Progress;
    }
    if (ev.kind == http::BodyEvent::NeedMore || (ev.consumed == 0 && f.fwd == f.len)) break;
  }
  return out;
}

bool HttpSession::on_response_head() {
  const http::Head& h = res_parser_.head();
  http::MessageView v = res_parser_.view(std::string_view(res_.buf.get(), res_.len));
  if (t_res_ < 0) t_res_ = loop_.now_ms();
  Out o{res_.head.get(), host_.bufsize()};
  const bool informational = h.status >= 100 && h.status < 200 && h.status != 101;
  if (informational) {
    // 100 Continue and friends: forward as they are, then the real head.
    o.put(std::string_view(res_.buf.get(), h.length));
    res_.head_len = o.n;
    res_.head_sent = 0;
    std::memmove(res_.buf.get(), res_.buf.get() + h.length, res_.len - h.length);
    res_.len -= h.length;
    res_parser_.reset();
    res_parser_.set_request_method(req_parser_.head().method);
    // Send it before parsing further (the head buffer is single).
    if (flush(client_.fd, res_, client_.writable) == Io::Failed) {
      close_all(true);
      return false;
    }
    return true;
  }
  status_ = h.status;
  const config::Proxy& bd = be_->def();
  const config::CookieDef& ck = bd.cookie;
  const bool upgrade = h.framing == http::Framing::Tunnel;
  if (h.framing == http::Framing::CloseDelimited || !h.keep_alive()) close_server_ = true;
  if (h.framing == http::Framing::CloseDelimited) close_client_ = true;
  bool insert = false;
  if (!ck.name.empty() && ck.method == config::CookieDef::Method::Insert && srv_ != nullptr &&
      !srv_->def().cookie.empty() &&
      !(ck_client_ == 'V' && cookie_srv_ == last_srv_) &&
      !(ck.postonly && req_parser_.head().method != http::Method::Post))
    insert = true;
  bool cacheable = insert && ck.nocache && response_cacheable(req_parser_.head().method, v);
  o.put("HTTP/1.1 ");  // HAProxy answers HTTP/1.1 whatever the server spoke
  char st[8];
  int stlen = std::snprintf(st, sizeof st, "%u", static_cast<unsigned>(h.status));
  o.put(std::string_view(st, static_cast<std::size_t>(stlen)));
  o.put(" ");
  o.put(v.reason());
  o.put("\r\n");
  bool server_set_cookie = false;
  char tmp[1024];
  for (auto f : v) {
    if (http::iequals(f.name, "connection")) continue;
    if (!ck.name.empty() && http::iequals(f.name, "set-cookie") &&
        f.value.size() > ck.name.size() && f.value.compare(0, ck.name.size(), ck.name) == 0 &&
        f.value[ck.name.size()] == '=') {
      server_set_cookie = true;
      if (ck.method == config::CookieDef::Method::Insert && !ck.preserve) continue;
      if (ck.method == config::CookieDef::Method::Rewrite && srv_ != nullptr &&
          !srv_->def().cookie.empty()) {
        std::string_view rest = f.value.substr(ck.name.size() + 1);
        auto semi = rest.find(';');
        std::size_t n = 0;
        Out t{tmp, sizeof tmp};
        t.put(ck.name);
        t.put("=");
        t.put(srv_->def().cookie);
        if (semi != std::string_view::npos) t.put(rest.substr(semi));
        n = t.ok ? t.n : 0;
        o.field(f.name, std::string_view(tmp, n));
        ck_server_ = 'R';
        continue;
      }
    }
    o.field(f.name, f.value);
  }
  if (insert && !(ck.preserve && server_set_cookie)) {
    std::size_t n = format_set_cookie(ck, srv_->def().cookie, tmp, sizeof tmp);
    o.field("Set-Cookie", std::string_view(tmp, n));
    ck_server_ = 'I';
    if (cacheable) o.field("Cache-control", "private");
  } else if (server_set_cookie && ck.method == config::CookieDef::Method::Insert && ck.preserve) {
    ck_server_ = 'P';
  }
  const http::Head& rq = req_parser_.head();
  if (upgrade) {
    o.field("Connection", "upgrade");
    tunnel_ = true;
    close_client_ = close_server_ = true;
  } else if (close_client_) {
    o.field("Connection", "close");
  } else if (!rq.http11()) {
    o.field("Connection", "keep-alive");
  }
  o.put("\r\n");
  if (!o.ok) {
    fail(502, TermCause::ProxyAbort, TermPhase::Headers);
    return false;
  }
  res_.head_len = o.n;
  res_.head_sent = 0;
  std::memmove(res_.buf.get(), res_.buf.get() + h.length, res_.len - h.length);
  res_.len -= h.length;
  res_.fwd = res_.sent = 0;
  res_.head_done = true;
  res_.dec.start(h);
  res_.body_done = h.framing == http::Framing::None || upgrade;
  return true;
}

void HttpSession::end_transaction() {
  drop_server_conn(!close_server_ && !s_eof_ && !s_error_ && res_.len == 0);
  release_server();
  if (be_counted_) {
    be_->counters().leave();
    be_counted_ = false;
  }
  log_transaction();  // after the releases: %bc/%sc count the others, as HAProxy's
  be_ = nullptr;
  first_request_ = false;
  if (close_client_ || client_.eof) {
    close_all(false);
    return;
  }
  // Keep-alive: the next request may already be in the buffer (pipelining).
  req_parser_.reset();
  req_.reset_msg();
  res_.len = 0;
  res_.reset_msg();
  phase_ = Phase::ReqHead;
  t_idle_start_ = loop_.now_ms();
  t_req_start_ = -1;
  if (req_.len > 0) {
    t_req_start_ = t_idle_start_;
    ::gettimeofday(&req_tv_, nullptr);
  }
}

void HttpSession::drop_server_conn(bool reusable) {
  if (sconn_ == nullptr) return;
  ServerConn* c = sconn_;
  sconn_ = nullptr;
  if (reusable)
    host_.server_conns().park(c);
  else
    host_.server_conns().discard(c);
}

// ---------------------------------------------------------------- tunnel

bool HttpSession::step_tunnel() {
  bool moved = false;
  auto pump = [&](int from, bool& readable, bool& eof, int to, bool& writable, Flow& f,
                  bool& shut) -> bool {
    if (readable && !eof && f.len < host_.bufsize()) {
      std::size_t before = f.len;
      if (recv_into(from, f, readable, eof) == Io::Failed) eof = true;
      if (f.len != before) moved = true;
    }
    f.fwd = f.len;
    if (flush(to, f, writable) == Io::Failed) return false;
    if (eof && f.len == 0 && !shut) {
      ::shutdown(to, SHUT_WR);
      shut = true;
      moved = true;
    }
    return true;
  };
  if (!pump(client_.fd, client_.readable, client_.eof, sconn_->fd, s_writable_, req_,
            s_shut_wr_) ||
      !pump(sconn_->fd, s_readable_, s_eof_, client_.fd, client_.writable, res_,
            client_.shut_wr)) {
    close_all(true);
    return false;
  }
  if (client_.eof && s_eof_ && req_.len == 0 && res_.len == 0) {
    close_all(true);
    return false;
  }
  if (moved) last_client_ = last_server_ = loop_.now_ms();
  return moved;
}

// ---------------------------------------------------------------- errors

void HttpSession::fail(std::uint16_t status, TermCause c, TermPhase p) {
  term_.set(c, p);
  status_ = status;
  if (sconn_ != nullptr) drop_server_conn(false);
  if (phase_ == Phase::Queued && be_ != nullptr) {
    if (proxy::Server* g = be_->cancel(pending_)) be_->release(*g);
  }
  release_server();
  // A response of our own, always followed by a close: make it say so.
  std::string_view page = http::error_response(status);
  Out o{res_.head.get(), host_.bufsize()};
  auto eol = page.find("\r\n");
  bool says_close = page.find("connection: close") != std::string_view::npos ||
                    page.find("Connection: close") != std::string_view::npos;
  if (eol != std::string_view::npos && !says_close) {
    o.put(page.substr(0, eol + 2));
    o.put("connection: close\r\n");
    o.put(page.substr(eol + 2));
  } else {
    o.put(page);
  }
  res_.head_len = o.ok ? o.n : 0;
  res_.head_sent = 0;
  res_.fwd = res_.sent = 0;
  res_.len = 0;
  phase_ = Phase::SendError;
  close_client_ = true;
  step_send_error();
}

bool HttpSession::step_send_error() {
  Io io = flush(client_.fd, res_, client_.writable);
  if (io == Io::Blocked) return false;
  if (io == Io::Ok) ::shutdown(client_.fd, SHUT_WR);
  close_all(true);
  return false;
}

// ---------------------------------------------------------------- end

void HttpSession::close_all(bool log) {
  if (!active()) return;
  Phase was = phase_;
  phase_ = Phase::Closed;
  loop_.cancel(timer_);
  if (was == Phase::Queued && be_ != nullptr) {
    if (proxy::Server* g = be_->cancel(pending_)) be_->release(*g);
  }
  drop_server_conn(false);
  release_server();
  if (be_counted_) {
    be_->counters().leave();
    be_counted_ = false;
  }
  if (log) log_transaction();
  if (client_.fd >= 0) {
    loop_.close_fd(client_.fd);
    client_.fd = -1;
  }
  req_parser_.reset();
  res_parser_.reset();
  host_.http_session_done(*this);
}

void HttpSession::kill() {
  if (!active()) return;
  close_all(false);
}

void HttpSession::log_transaction() {
  count_transaction();
  const log::Logger* lg = fe_->logger();
  if (lg == nullptr || lg->empty() || !(fe_->def().httplog || fe_->def().tcplog) ||
      (fe_->def().dontlognull && req_index_ == 0 && reqline_len_ == 0)) {
    res_.bytes_out = 0;
    reqline_len_ = 0;
    return;
  }
  log::HttpLogFields f;
  f.client_addr = client_addr_;
  f.client_port = client_port_;
  f.request_time = req_tv_;
  f.frontend = fe_->name();
  f.backend = be_ != nullptr ? std::string_view(be_->name()) : std::string_view(fe_->name());
  f.server = last_srv_ != nullptr ? std::string_view(last_srv_->name()) : std::string_view();
  std::int64_t now = loop_.now_ms();
  std::int64_t start = t_req_start_ >= 0 ? t_req_start_ : t_idle_start_;
  f.treq = t_head_ >= 0 && t_head_ >= start ? t_head_ - start : -1;
  f.tw = t_queue_done_ >= 0 && t_head_ >= 0 ? t_queue_done_ - t_head_ : -1;
  f.tc = tc_;
  f.tr = t_res_ >= 0 && t_queue_done_ >= 0 ? t_res_ - t_queue_done_ - std::max<std::int64_t>(tc_, 0) : -1;
  f.ta = now - start;
  f.status = status_;
  f.bytes_read = res_.bytes_out;
  f.termination[0] = term_.first();
  f.termination[1] = term_.second();
  f.termination[2] = ck_client_;
  f.termination[3] = ck_server_;
  f.actconn = host_.active_connections();
  f.feconn = fe_->counters().cur.load(std::memory_order_relaxed);
  f.beconn = be_ != nullptr ? be_->counters().cur.load(std::memory_order_relaxed) : 0;
  f.srv_conn = last_srv_ != nullptr ? last_srv_->counters().cur.load(std::memory_order_relaxed) : 0;
  f.retries = retries_;
  f.redispatched = redispatched_;
  f.request_line = std::string_view(reqline_, reqline_len_);
  char line[2048];
  std::size_t n = log::format_httplog(f, line, sizeof line);
  lg->send(log::Level::Info, std::string_view(line, std::min(n, sizeof line)));
  res_.bytes_out = 0;
  reqline_len_ = 0;
}

// ---------------------------------------------------------------- timers

void HttpSession::rearm_timer() {
  const config::Timeouts& ft = fe_->def().timeouts;
  std::int64_t d = kNever;
  auto at = [&](std::int64_t from, std::optional<std::chrono::milliseconds> t) {
    if (t) d = std::min(d, from + t->count());
  };
  switch (phase_) {
    case Phase::ReqHead:
      if (t_req_start_ < 0 && !first_request_)
        at(t_idle_start_, first_of(ft.http_keep_alive, first_of(ft.http_request, ft.client)));
      else
        at(t_req_start_ >= 0 && !first_request_ ? t_req_start_ : t_idle_start_,
           first_of(ft.http_request, ft.client));
      break;
    case Phase::Queued:
      if (auto tq = be_->timeout_queue()) at(t_head_, tq);
      break;
    case Phase::Connecting:
      at(t_connect_, be_->timeout_connect());
      break;
    case Phase::TurnAround:
      return;  // armed by connect_failed
    case Phase::Exchange:
      if (!res_.body_done) at(last_server_, be_->def().timeouts.server);
      if (!req_.body_done || !client_.writable) at(last_client_, ft.client);
      break;
    case Phase::Tunnel:
      at(std::max(last_client_, last_server_),
         first_of(be_->def().timeouts.tunnel, first_of(ft.client, be_->def().timeouts.server)));
      break;
    case Phase::SendError:
      at(loop_.now_ms(), ft.client);
      break;
    default:
      return;
  }
  if (d == kNever)
    loop_.cancel(timer_);
  else
    loop_.arm_at(timer_, d);
}

void HttpSession::on_timer() {
  switch (phase_) {
    case Phase::ReqHead:
      if (t_req_start_ < 0 && !first_request_) {
        close_all(false);  // keep-alive timeout between requests
        return;
      }
      if (req_.len == 0 && fe_->def().dontlognull) {
        close_all(false);
        return;
      }
      fail(408, TermCause::ClientTimeout, TermPhase::Request);
      return;
    case Phase::Queued: {
      proxy::Server* s = be_->cancel(pending_);
      if (s != nullptr) {
        got_server(s);
        return;
      }
      be_->counters().queue_timeouts.fetch_add(1, std::memory_order_relaxed);
      fail(503, TermCause::ServerTimeout, TermPhase::Queue);
      return;
    }
    case Phase::TurnAround:
      retry_same_server();
      return;
    case Phase::Connecting:
      connect_failed(true);
      return;
    case Phase::Exchange: {
      std::int64_t now = loop_.now_ms();
      auto ts = be_->def().timeouts.server;
      if (!res_.body_done && ts && last_server_ + ts->count() <= now) {
        if (!res_.head_done) {
          fail(504, TermCause::ServerTimeout, TermPhase::Headers);
        } else {
          term_.set(TermCause::ServerTimeout, TermPhase::Data);
          close_all(true);
        }
        return;
      }
      auto tcl = fe_->def().timeouts.client;
      if (tcl && last_client_ + tcl->count() <= now && (!req_.body_done || !client_.writable)) {
        term_.set(TermCause::ClientTimeout, TermPhase::Data);
        close_all(true);
        return;
      }
      rearm_timer();
      return;
    }
    case Phase::Tunnel:
      term_.set(TermCause::ClientTimeout, TermPhase::Data);
      close_all(true);
      return;
    case Phase::SendError:
      close_all(true);
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------- samples

const sockaddr_storage* HttpSession::source() const {
  return peer_.ss_family == AF_INET || peer_.ss_family == AF_INET6 ? &peer_ : nullptr;
}

const sockaddr_storage* HttpSession::destination() const {
  if (!local_known_) {
    socklen_t len = sizeof local_;
    if (client_.fd < 0 ||
        ::getsockname(client_.fd, reinterpret_cast<sockaddr*>(&local_), &len) != 0)
      return nullptr;
    local_known_ = true;
  }
  return local_.ss_family == AF_INET || local_.ss_family == AF_INET6 ? &local_ : nullptr;
}

std::optional<std::int64_t> HttpSession::frontend_conns(const acl::ProxyRef& r) const {
  const proxy::Frontend* f = fe_;
  if (!(r.name.empty() && r.id == 0)) {
    const proxy::Directory* d = fe_ != nullptr ? fe_->directory() : nullptr;
    f = d != nullptr ? d->frontend(r) : nullptr;
  }
  if (f == nullptr) return {};
  return f->counters().cur.load(std::memory_order_relaxed);
}

std::optional<std::int64_t> HttpSession::backend_conns(const acl::ProxyRef& r) const {
  const proxy::Backend* b = be_;
  if (!(r.name.empty() && r.id == 0)) {
    const proxy::Directory* d = fe_ != nullptr ? fe_->directory() : nullptr;
    b = d != nullptr ? d->backend(r) : nullptr;
  }
  if (b == nullptr) return {};
  return b->counters().cur.load(std::memory_order_relaxed);
}

std::optional<std::int64_t> HttpSession::usable_servers(const acl::ProxyRef& r) const {
  const proxy::Backend* b = be_;
  if (!(r.name.empty() && r.id == 0)) {
    const proxy::Directory* d = fe_ != nullptr ? fe_->directory() : nullptr;
    b = d != nullptr ? d->backend(r) : nullptr;
  }
  if (b == nullptr) return {};
  return static_cast<std::int64_t>(b->active_up() > 0 ? b->active_up() : b->backup_up());
}

std::optional<std::int64_t> HttpSession::frontend_id() const {
  if (fe_ == nullptr) return {};
  return fe_->def().id;
}

std::optional<std::int64_t> HttpSession::backend_id() const {
  if (be_ == nullptr) return {};
  return be_->def().id;
}

std::optional<std::string_view> HttpSession::http_method() const {
  if (req_parser_.head().length == 0 || req_.head_done) return {};
  return req_parser_.view(std::string_view(req_.buf.get(), req_.len)).method();
}

std::optional<std::string_view> HttpSession::http_target() const {
  if (req_parser_.head().length == 0 || req_.head_done) return {};
  return req_parser_.view(std::string_view(req_.buf.get(), req_.len)).target();
}

bool HttpSession::http_req_field(std::string_view name, std::size_t i,
                                 std::string_view& out) const {
  if (req_parser_.head().length == 0 || req_.head_done) return false;
  http::MessageView v = req_parser_.view(std::string_view(req_.buf.get(), req_.len));
  std::size_t at = 0;
  for (std::size_t k = 0;; ++k) {
    at = v.find(name, at);
    if (at == http::MessageView::npos) return false;
    if (k == i) {
      out = v.field(at).value;
      return true;
    }
    ++at;
  }
}

std::optional<std::int64_t> HttpSession::http_status() const {
  if (status_ < 0) return {};
  return status_;
}

bool HttpSession::http_res_field(std::string_view, std::size_t, std::string_view&) const {
  return false;  // response rules are not run yet
}

}  // namespace sluice::httpmode
