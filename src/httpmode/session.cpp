#include "httpmode/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "checks/outgoing.h"
#include "core/speculation.h"
#include "http/status.h"
#include "httpmode/auth_reply.h"
#include "httpmode/balance_key.h"
#include "proxy/accounting.h"
#include "httpmode/cookie.h"
#include "httpmode/errors.h"
#include "httpmode/retry.h"
#include "httpmode/rules.h"
#include "httpmode/services.h"
#include "log/logformat.h"
#include "log/httplog.h"
#include "log/logger.h"
#include "proxy/directory.h"

namespace sluice::httpmode {

using proxy::TermCause;
using proxy::TermPhase;

namespace {
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// How often this thread's first reads after accept found the request.
core::SpeculationGate& first_read_gate() {
  thread_local core::SpeculationGate gate;
  return gate;
}

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
}

HttpSession::~HttpSession() {
  if (active()) kill();
  shed_buffers(true);
}

void HttpSession::shed_buffers(bool all) {
  if (all || req_.len == 0) drop(req_.buf);
  if (all || req_.head_sent >= req_.head_len) drop(req_.head);
  if (all || res_.len == 0) drop(res_.buf);
  if (all || res_.head_sent >= res_.head_len) drop(res_.head);
}

// ---------------------------------------------------------------- accept

void HttpSession::start(int fd, const sockaddr_storage& peer, socklen_t peer_len,
                        proxy::Frontend& fe, bool adopted) {
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
  first_request_ = !adopted;  // an adopted one waits as between requests (keep-alive)
  req_index_ = 0;
  addr_known_ = false;
  if (fe.def().clitcpka) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  }
  phase_ = Phase::ReqHead;
  t_idle_start_ = loop_.now_ms();
  t_req_start_ = -1;
  ::gettimeofday(&req_tv_, nullptr);
  // Speculative receive: the request usually arrived with the handshake,
  // before the accept. EAGAIN costs one recv; then the EPOLLIN edge comes.
  // Tried while it keeps finding requests on this thread (under load with
  // batches of accepts, many are not in yet).
  // The socket joins the loop only when the session first waits for it
  // (watch_client): a request answered on a connection that then closes
  // (Connection: close) never needs an epoll_ctl, as with haproxy.
  // An adopted connection is idle between requests: parked at once (a
  // request already waiting in its socket fires the first edge), so that a
  // stopping worker can hand it on again.
  if (adopted) {
    client_.readable = false;
    spec_try_ = false;
    park();
    return;
  }
  client_.readable = first_read_gate().should_try();
  spec_try_ = client_.readable;
  progress();
}

void HttpSession::on_stopping() {
  // Idle between requests with nothing received: the last response did not
  // promise more, but closing now could race a request in flight; let the
  // keep-alive timeout or the next response (with Connection: close) end it.
}

// The client's address as text, made when first needed (logs, forwardfor,
// show sess), not on every request of a keep-alive connection.
const char* HttpSession::client_addr() const {
  if (!addr_known_) set_client_addr();
  return client_addr_;
}

std::uint16_t HttpSession::client_port() const {
  if (!addr_known_) set_client_addr();
  return client_port_;
}

void peer_text(const sockaddr* sa, char* out, std::size_t n, std::uint16_t& port) {
  port = 0;
  std::snprintf(out, n, "unix");
  if (sa->sa_family == AF_INET) {
    auto& a = reinterpret_cast<const sockaddr_in&>(*sa);
    ::inet_ntop(AF_INET, &a.sin_addr, out, static_cast<socklen_t>(n));
    port = ntohs(a.sin_port);
  } else if (sa->sa_family == AF_INET6) {
    auto& a = reinterpret_cast<const sockaddr_in6&>(*sa);
    ::inet_ntop(AF_INET6, &a.sin6_addr, out, static_cast<socklen_t>(n));
    port = ntohs(a.sin6_port);
  }
}

void HttpSession::set_client_addr() const {
  addr_known_ = true;
  peer_text(reinterpret_cast<const sockaddr*>(&peer_), client_addr_, sizeof client_addr_,
            client_port_);
}

void IdleConn::on_events(std::uint32_t ev) {
  // Write space alone (the last response drained) is no reason to wake up.
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) host->resume(*this, ev);
}

void HttpSession::resume(const IdleConn& c, std::uint32_t events) {
  client_ = Client{};
  client_.owner = this;
  client_.fd = c.fd;
  client_.in_loop = true;
  client_.out_armed = c.out_armed;
  spec_try_ = false;  // an edge brought it back: nothing speculative here
  fe_ = c.fe;
  be_ = nullptr;
  srv_ = nullptr;
  last_srv_ = nullptr;
  sconn_ = nullptr;
  std::memcpy(&peer_, &c.peer, std::min<std::size_t>(c.peer_len, sizeof c.peer));
  peer_len_ = c.peer_len;
  local_known_ = false;
  req_.len = res_.len = 0;
  req_.reset_msg();
  res_.reset_msg();
  first_request_ = false;
  req_index_ = c.req_index;
  addr_known_ = false;
  phase_ = Phase::ReqHead;
  t_idle_start_ = c.idle_since;
  t_req_start_ = -1;
  loop_.rehandle(c.fd, &client_);
  on_client_events(events);
}

void HttpSession::park() {
  if (!watch_client()) return;  // closed instead
  IdleConn& c = host_.park(*this);
  c.fd = client_.fd;
  c.fe = fe_;
  c.req_index = req_index_;
  c.peer_len = peer_len_;
  std::memcpy(&c.peer, &peer_, std::min<std::size_t>(peer_len_, sizeof c.peer));
  c.idle_since = t_idle_start_;
  c.out_armed = client_.out_armed;
  loop_.rehandle(client_.fd, &c);
  // An edge that came during the exchange and was not read (the client's
  // FIN after its request, or its next request) will not fire again: hand
  // it to the parked connection, which resumes at once.
  if (client_.readable) loop_.requeue(client_.fd, EPOLLIN);
  const config::Timeouts& ft = fe_->def().timeouts;
  if (auto t = first_of(ft.http_keep_alive, first_of(ft.http_request, ft.client)))
    loop_.arm_at(c.timer, t_idle_start_ + t->count());
  loop_.cancel(timer_);
  client_.fd = -1;
  phase_ = Phase::Idle;
  fe_ = nullptr;
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
  bool moved = false;
  for (int guard = 0; guard < 64 && active(); ++guard) {
    moved = false;
    switch (phase_) {
      case Phase::ReqHead: moved = step_req_head(); break;
      case Phase::Exchange: moved = step_exchange(); break;
      case Phase::Tunnel: moved = step_tunnel(); break;
      case Phase::SendError: moved = step_send_error(); break;
      case Phase::LocalReply: moved = step_local_reply(); break;
      case Phase::ServiceBody: moved = step_service_body(); break;
      case Phase::ServiceWait: moved = step_service_wait(); break;
      default: break;
    }
    if (!moved) break;
  }
  if (!active()) return;
  if ((moved || waits_for_client()) && !watch_client()) return;
  // Budget spent with work left (a large body relayed 16 KiB per step): the
  // edges that brought it are consumed, so come back after the other
  // sockets of this batch have had their turn.
  if (moved) loop_.requeue(client_.fd, 0);
  rearm_timer();
}

// Phases that need the client's events; the others wait for the server,
// a timer or the stats thread (a short send registers it: want_out).
bool HttpSession::waits_for_client() const {
  switch (phase_) {
    case Phase::ReqHead:
    case Phase::Tunnel:
    case Phase::ServiceBody:
      return true;
    case Phase::Exchange:
      return !req_.body_done;
    default:
      return false;
  }
}

// Registering reports the socket's state at once: bytes or an EOF that came
// since the accept are not lost. False: could not, the session is closed.
bool HttpSession::watch_client() {
  if (client_.in_loop) return true;
  if (!loop_.add(client_.fd, &client_, core::Loop::kReadEvents)) {
    close_all(false);
    return false;
  }
  client_.in_loop = true;
  return true;
}

// ---------------------------------------------------------------- I/O

HttpSession::Io HttpSession::recv_into(int fd, Flow& f, bool& readable, bool& eof) {
  const std::size_t cap = host_.bufsize();
  while (readable && f.len < cap) {
    ssize_t n = ::recv(fd, need(f.buf) + f.len, cap - f.len, 0);
    if (spec_try_ && fd == client_.fd) {  // the first read, tried before any edge
      spec_try_ = false;
      first_read_gate().record(n >= 0);
    }
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

HttpSession::Io HttpSession::flush(int fd, Flow& f, bool& writable,
                                   checks::LazyNoDelay* nagle) {
  for (;;) {
    const std::size_t head_left = f.head_len - f.head_sent;
    const std::size_t body_left = f.fwd - f.sent;
    if (head_left == 0 && body_left == 0) {
      compact(f);
      return Io::Ok;
    }
    if (!writable) return Io::Blocked;
    // Head and body in one gathered write: one system call per message
    // when it fits the socket buffer.
    iovec iov[2];
    int cnt = 0;
    if (head_left > 0) iov[cnt++] = {f.head + f.head_sent, head_left};
    if (body_left > 0) iov[cnt++] = {f.buf + f.sent, body_left};
    if (nagle != nullptr) nagle->before_send(fd, head_left + body_left);
    // A request head to the server waits for the end of the loop turn and
    // goes with the others (core/send_batch.h): the origin is woken once per
    // batch instead of once per request. on_batch_sent() resumes.
    if (head_left > 0 && phase_ == Phase::Exchange && sconn_ != nullptr && fd == sconn_->fd &&
        loop_.send_batch().available()) {
      loop_.send_batch().queue(fd, iov, cnt, this);
      s_batched_ = true;
      writable = false;
      return Io::Blocked;
    }
    ssize_t w;
    if (cnt == 1) {
      w = ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    } else {
      msghdr m{};
      m.msg_iov = iov;
      m.msg_iovlen = static_cast<std::size_t>(cnt);
      w = ::sendmsg(fd, &m, MSG_NOSIGNAL);
    }
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        writable = false;
        want_out(fd);
        return Io::Blocked;
      }
      if (errno == EINTR) continue;
      return Io::Failed;
    }
    const std::size_t done = static_cast<std::size_t>(w);
    count_sent(f, done);
    if (done < head_left + body_left) {
      writable = false;
      want_out(fd);
      return Io::Blocked;
    }
  }
}

void HttpSession::count_sent(Flow& f, std::size_t done) {
  const std::size_t to_head = std::min(done, f.head_len - f.head_sent);
  f.head_sent += to_head;
  f.sent += done - to_head;
  f.bytes_out += done;
}

void HttpSession::on_batch_sent(ssize_t result) {
  s_batched_ = false;
  if (!active() || sconn_ == nullptr) return;
  if (result >= 0) {
    const std::size_t left = (req_.head_len - req_.head_sent) + (req_.fwd - req_.sent);
    const auto done = static_cast<std::size_t>(result);
    count_sent(req_, done);
    last_server_ = loop_.now_ms();  // the server reads the request: its timeout starts again
    if (done < left)
      want_out(sconn_->fd);  // short: the rest when the socket has room
    else
      s_writable_ = true;
  } else if (result == -EAGAIN || result == -EWOULDBLOCK) {
    want_out(sconn_->fd);
  } else {
    s_error_ = true;
  }
  progress();
}

void HttpSession::cancel_batched_send() {
  if (!s_batched_) return;
  s_batched_ = false;
  loop_.send_batch().cancel(this);
}

// EPOLL_CTL_MOD reports the socket's state at that moment, so an edge that
// came since the short send is not lost; EPOLLOUT then stays in the set
// (edge-triggered, it fires again only after a send fills the buffer).
void HttpSession::want_out(int fd) {
  if (fd == client_.fd) {
    if (!client_.out_armed) {
      client_.out_armed = client_.in_loop ? loop_.modify(fd, &client_, core::Loop::kStreamEvents)
                                          : loop_.add(fd, &client_, core::Loop::kStreamEvents);
      if (!client_.out_armed) client_.error = true;  // no edge would ever come
      client_.in_loop = client_.in_loop || client_.out_armed;
    }
  } else if (sconn_ != nullptr && fd == sconn_->fd && phase_ != Phase::Connecting &&
             !sconn_->out_armed) {
    // (While connecting, connect() registers the socket after its first send.)
    sconn_->out_armed = loop_.modify(fd, sconn_, core::Loop::kStreamEvents);
    if (!sconn_->out_armed) s_error_ = true;
  }
}

void HttpSession::compact(Flow& f) {
  if (f.keep || f.fwd == 0 || f.sent < f.fwd) return;
  std::memmove(f.buf, f.buf + f.fwd, f.len - f.fwd);
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
    if (req_.len == 0) drop(req_.buf);  // woken without data: stay light
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
    http::HeadResult r = req_parser_.parse(std::string_view(req_.buf, req_.len));
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
  http::MessageView v = req_parser_.view(std::string_view(req_.buf, req_.len));
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
  ck_first_.reset();
  ck_refresh_ = false;
  retries_ = 0;
  redispatched_ = false;
  tc_ = -1;
  t_res_ = -1;
  t_queue_done_ = -1;
  tunnel_ = false;
  s_shut_wr_ = false;
  last_srv_ = nullptr;
  ++req_index_;
  stream_id_ = fe_->log_format() != nullptr ? log::next_stream_id() : 0;
  tarpit_ = false;
  close_client_ = fe_->def().http_conn_mode == config::HttpConnMode::Close || !h.keep_alive() ||
                  host_.close_on_stop(static_cast<std::uint32_t>(client_.fd), *fe_);
  req_cap_len_ = res_cap_len_ = 0;
  if (!fe_->def().request_captures.empty())
    req_cap_len_ = httpmode::format_captures(fe_->def().request_captures, v, req_cap_,
                                             sizeof req_cap_);
  if (const std::size_t n = fe_->def().response_captures.size(); n > 0) {
    // Until a response head arrives: empty slots ("{|}" for two captures).
    res_cap_[0] = '{';
    res_cap_len_ = 1;
    for (std::size_t i = 1; i < n && res_cap_len_ + 2 < sizeof res_cap_; ++i)
      res_cap_[res_cap_len_++] = '|';
    res_cap_[res_cap_len_++] = '}';
  }
  route();
}

// ---------------------------------------------------------------- route

void HttpSession::route() {
  const httpmode::ProxyHttp* fe_rules = fe_->http();
  if (fe_rules != nullptr && !fe_rules->request.empty() &&
      !apply_request_rules(fe_rules->request))
    return;
  if (fe_->def().stats_page.enabled &&
      httpmode::stats_uri_matches(fe_->def().stats_page, req_parser_.view(std::string_view(req_.buf, req_.len)).target())) {
    start_service(config::HttpRule::Service::None, &fe_->def(), fe_rules);
    return;
  }
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
  const httpmode::ProxyHttp* be_rules = be_->http();
  if (be_rules != nullptr && be_rules != fe_rules && !be_rules->request.empty() &&
      !apply_request_rules(be_rules->request))
    return;
  if (&be_->def() != &fe_->def() && be_->def().stats_page.enabled &&
      httpmode::stats_uri_matches(be_->def().stats_page, req_parser_.view(std::string_view(req_.buf, req_.len)).target())) {
    start_service(config::HttpRule::Service::None, &be_->def(), be_rules);
    return;
  }
  res_parser_.set_request_method(req_parser_.head().method);  // set-method may change it

  const config::Proxy& fd = fe_->def();
  const config::Proxy& bd = be_->def();
  const http::Head& h = req_parser_.head();
  close_client_ = fd.http_conn_mode == config::HttpConnMode::Close || !h.keep_alive() ||
                  host_.close_on_stop(static_cast<std::uint32_t>(client_.fd), *fe_);
  close_server_ = fd.http_conn_mode != config::HttpConnMode::KeepAlive ||
                  bd.http_conn_mode != config::HttpConnMode::KeepAlive ||
                  bd.http_reuse == config::HttpReuse::Never;

  // Cookie persistence: a valid cookie naming a usable server wins.
  const config::CookieDef& ck = bd.cookie;
  if (!ck.name.empty()) {
    ck_client_ = 'N';
    ck_server_ = 'N';
    http::MessageView v = req_parser_.view(std::string_view(req_.buf, req_.len));
    for (auto f : v) {
      if (!http::iequals(f.name, "cookie")) continue;
      if (auto val = find_cookie(f.value, ck.name)) {
        cookie_seen_ = true;
        ck_client_ = 'I';
        std::string_view sv = *val;
        if (ck.method == config::CookieDef::Method::Prefix) {
          auto tilde = sv.find('~');
          if (tilde == std::string_view::npos) continue;  // not one of ours
          sv = sv.substr(0, tilde);
        }
        if (ck.maxidle || ck.maxlife) {
          CookieValue cv = parse_cookie_value(sv);
          CookieAge age = cookie_age(ck, cv, req_tv_.tv_sec);
          if (age != CookieAge::Valid) {
            ck_client_ = age == CookieAge::Expired ? 'E' : 'O';
            continue;
          }
          sv = cv.server;
          ck_first_ = cv.first;
          ck_refresh_ = cookie_needs_refresh(ck, cv, req_tv_.tv_sec);
        }
        for (const auto& s : be_->servers()) {
          if (!s->def().cookie.empty() && s->def().cookie == sv) {
            cookie_srv_ = s.get();
            break;
          }
        }
      }
    }
  }
  {
    http::MessageView v = req_parser_.view(std::string_view(req_.buf, req_.len));
    std::string_view body(req_.buf + h.length, req_.len - h.length);
    has_lb_key_ = request_balance_key(bd.balance, v, body, peer_, lb_key_);
  }
  build_request_head();
  if (phase_ != Phase::ReqHead) return;  // the head did not fit: answered already
  if (cookie_srv_ != nullptr) {
    proxy::Server* s = const_cast<proxy::Server*>(cookie_srv_);
    // A cookie naming a DOWN server is ignored (HAProxy without `option persist`).
    if (s->usable()) {
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
  http::MessageView v = req_parser_.view(std::string_view(req_.buf, req_.len));
  Out o{need(req_.head), host_.bufsize()};
  o.put(v.method());
  o.put(" ");
  o.put(v.target());
  o.put(h.version_minor >= 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
  const config::CookieDef& ck = bd.cookie;
  const bool strip = !ck.name.empty() && ck.indirect && cookie_seen_ &&
                     ck.method == config::CookieDef::Method::Insert;
  const bool unprefix = !ck.name.empty() && cookie_seen_ &&
                        ck.method == config::CookieDef::Method::Prefix;
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
    if (unprefix && http::iequals(f.name, "cookie")) {
      std::size_t n = unprefix_cookie(f.value, ck.name, tmp, sizeof tmp);
      o.field(f.name, n > 0 ? std::string_view(tmp, n) : f.value);
      continue;
    }
    o.field(f.name, f.value);
  }
  if (ff.enabled && !(ff.if_none && xff_present) &&
      (peer_.ss_family == AF_INET || peer_.ss_family == AF_INET6) &&
      !(ff.has_except && net_contains(ff, peer_)))
    o.field(ff.header, client_addr());
  const config::ForwardFor& ot = bd.originalto.enabled ? bd.originalto : fd.originalto;
  if (ot.enabled) {
    const sockaddr_storage* dst = destination();
    char text[INET6_ADDRSTRLEN] = {};
    if (dst != nullptr && !(ot.has_except && net_contains(ot, *dst))) {
      const void* a = dst->ss_family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(dst)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(dst)->sin6_addr);
      if (::inet_ntop(dst->ss_family, a, text, sizeof text) != nullptr) o.field(ot.header, text);
    }
  }
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
  std::memmove(req_.buf, req_.buf + hl, req_.len - hl);
  req_.len -= hl;
  req_.fwd = req_.sent = 0;
  req_.dec.start(h);
  req_.body_done = h.framing == http::Framing::None;
  req_.head_done = true;
  replayable_ = (bd.retry_on & config::retry_on::kNeedsReplay) != 0 &&
                replayable_request(h, host_.bufsize());
  req_.keep = replayable_;
}

// ---------------------------------------------------------------- pick

void HttpSession::assign() {
  if (phase_ == Phase::SendError || !active()) return;
  lb::PickInput in;
  if (has_lb_key_) in.key = std::string_view(lb_key_);
  proxy::Server* s = nullptr;
  auto outcome = host_.balancer(*be_).pick(in, s);
  if (outcome == proxy::ThreadBalancer::Outcome::Picked && s == avoid_ && be_->active_up() > 1) {
    // A redispatch: prefer another server than the one that failed.
    proxy::Server* other = nullptr;
    if (host_.balancer(*be_).pick(in, other) == proxy::ThreadBalancer::Outcome::Picked) {
      be_->release(*s);
      s = other;
    }
  }
  avoid_ = nullptr;
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
  srv_link_.attach(srv_->links(), loop_.thread_index());
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
  sconn_->nagle.reset(srv_->addr().family() != AF_UNIX);
  sconn_->server = srv_;
  s_readable_ = s_eof_ = s_error_ = false;
  // Speculative send: on loopback (and UNIX sockets) connect() has usually
  // completed when it returns, so the request goes at once and the socket
  // joins the loop without EPOLLOUT. EAGAIN: still connecting, wait for
  // EPOLLOUT as before. An error is a failed connect (ECONNREFUSED...).
  const std::uint64_t out_before = req_.bytes_out;
  s_writable_ = req_.head_len > req_.head_sent || req_.fwd > req_.sent;
  if (s_writable_ && flush(fd, req_, s_writable_, &sconn_->nagle) == Io::Failed) {
    connect_failed(false);
    return;
  }
  const bool done = req_.bytes_out != out_before;  // bytes went: connected
  sconn_->out_armed = !s_writable_ || !done;
  if (!loop_.add(fd, sconn_,
                 sconn_->out_armed ? core::Loop::kStreamEvents : core::Loop::kReadEvents)) {
    connect_failed(false);
    return;
  }
  if (!done) {
    s_writable_ = false;
    rearm_timer();
    return;
  }
  connected();
  progress();
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
  s_writable_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP)) s_readable_ = true;
  connected();
  progress();
}

void HttpSession::connected() {
  tc_ = loop_.now_ms() - t_connect_;
  observe(proxy::Observed::L4Ok);
  phase_ = Phase::Exchange;
  last_server_ = last_client_ = loop_.now_ms();
}

void HttpSession::release_server() {
  if (srv_ == nullptr) return;
  proxy::Server* s = srv_;
  srv_ = nullptr;
  srv_link_.detach();
  s->counters().leave();
  be_->release(*s);
}

void HttpSession::connect_failed(bool timeout) {
  drop_server_conn(false);
  proxy::Server* prev = srv_;
  prev->observe(proxy::Observed::L4Err);
  release_server();
  const config::Proxy& bd = be_->def();
  if (retries_ >= bd.retries || !(bd.retry_on & config::retry_on::kConnFailure)) {
    // econ counts requests that gave up connecting (retries are wretr), as HAProxy.
    prev->counters().connect_errors.fetch_add(1, std::memory_order_relaxed);
    be_->counters().connect_errors.fetch_add(1, std::memory_order_relaxed);
    fail(503, timeout ? TermCause::ServerTimeout : TermCause::ServerAbort, TermPhase::Connect);
    return;
  }
  ++retries_;
  if (should_redispatch(bd, retries_, prev->usable(), ck_client_ == 'V' && cookie_srv_ == prev,
                        be_->active_up())) {
    redispatched_ = true;
    avoid_ = prev;
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

bool HttpSession::retry_after(unsigned why) {
  const config::Proxy& bd = be_->def();
  if (!replayable_ || !(bd.retry_on & why) || retries_ >= bd.retries || srv_ == nullptr ||
      res_.head_done)
    return false;
  proxy::Server* prev = srv_;
  drop_server_conn(false);
  release_server();
  ++retries_;
  res_.len = 0;
  res_.reset_msg();
  res_parser_.reset();
  res_parser_.set_request_method(req_parser_.head().method);
  req_.sent = req_.head_sent = 0;  // the whole request again
  status_ = -1;
  t_res_ = tc_ = -1;
  term_ = proxy::Termination{};
  if (should_redispatch(bd, retries_, prev->usable(), ck_client_ == 'V' && cookie_srv_ == prev,
                        be_->active_up())) {
    redispatched_ = true;
    avoid_ = prev;
    prev->counters().redispatches.fetch_add(1, std::memory_order_relaxed);
    be_->counters().redispatches.fetch_add(1, std::memory_order_relaxed);
    assign();
    return true;
  }
  prev->counters().retries.fetch_add(1, std::memory_order_relaxed);
  be_->counters().retries.fetch_add(1, std::memory_order_relaxed);
  last_srv_ = prev;
  retry_same_server();
  return true;
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
  const std::uint64_t req_out = req_.bytes_out;
  if (flush(sconn_->fd, req_, s_writable_, &sconn_->nagle) == Io::Failed) {
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
      if (flush(sconn_->fd, req_, s_writable_, &sconn_->nagle) == Io::Failed) s_error_ = true;
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
  // The server reads the request: its timeout starts again (as haproxy's).
  if (req_.bytes_out != req_out) last_server_ = loop_.now_ms();
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
      http::HeadResult r = res_parser_.parse(std::string_view(res_.buf, res_.len));
      if (r.state == http::ParseState::Error) {
        observe(proxy::Observed::HttpHdrRsp);
        if (retry_after(config::retry_on::kJunkResponse)) return false;
        term_.set(TermCause::ProxyAbort, TermPhase::Headers);
        fail(502, TermCause::ProxyAbort, TermPhase::Headers);
        return false;
      }
      if (r.state == http::ParseState::Done) {
        if (!on_response_head()) return phase_ == Phase::LocalReply;
        moved = true;
      }
    }
    if (!res_.head_done && (s_eof_ || s_error_)) {
      bool empty = res_.len == 0;
      if (empty && sconn_->reused && req_.body_done && req_.sent == req_.fwd &&
          req_.fwd == 0) {
        // An idle connection the server closed as we reused it: try a new one.
        drop_server_conn(false);
        req_.head_sent = 0;
        first_request_ = true;  // force a fresh connection
        connect();
        first_request_ = false;
        return false;
      }
      observe(s_error_ ? proxy::Observed::ReadError : proxy::Observed::BrokenPipe);
      if (retry_after(empty ? config::retry_on::kEmptyResponse : config::retry_on::kJunkResponse))
        return false;
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
    const std::uint64_t out_before = res_.bytes_out;
    Io io = flush(client_.fd, res_, client_.writable);
    if (io == Io::Failed) {
      term_.set(TermCause::ClientAbort, TermPhase::Data);
      close_all(true);
      return false;
    }
    if (res_.bytes_out != out_before) {
      // The client reads: its timeout starts again (as haproxy's). And room
      // is free again: read the server, whose data may all be waiting
      // already (no edge would come for it).
      last_client_ = loop_.now_ms();
      moved = true;
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
    observe(proxy::Observed::ReadError);
    if (retry_after(res_.len == 0 ? config::retry_on::kEmptyResponse
                                  : config::retry_on::kJunkResponse))
      return false;
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
    http::BodyEvent ev = f.dec.decode(std::string_view(f.buf + f.fwd, f.len - f.fwd));
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
  {
    const http::Head& h0 = res_parser_.head();
    if (h0.status < 100 || h0.status >= 200 || h0.status == 101) {
      status_ = h0.status;
      if (!fe_->def().response_captures.empty())
        res_cap_len_ = httpmode::format_captures(
            fe_->def().response_captures,
            res_parser_.view(std::string_view(res_.buf, res_.len)), res_cap_,
            sizeof res_cap_);
      if (!apply_response_rules()) return false;
    }
  }
  const http::Head& h = res_parser_.head();
  http::MessageView v = res_parser_.view(std::string_view(res_.buf, res_.len));
  if (t_res_ < 0) t_res_ = loop_.now_ms();
  Out o{need(res_.head), host_.bufsize()};
  const bool informational = h.status >= 100 && h.status < 200 && h.status != 101;
  if (informational) {
    // 100 Continue and friends: forward as they are, then the real head.
    o.put(std::string_view(res_.buf, h.length));
    res_.head_len = o.n;
    res_.head_sent = 0;
    std::memmove(res_.buf, res_.buf + h.length, res_.len - h.length);
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
  if (unsigned bit = config::retry_on::status_bit(h.status); bit != 0 && retry_after(bit))
    return false;
  if (req_.keep) {
    req_.keep = false;  // the response is coming: no replay any more
    compact(req_);
  }
  status_ = h.status;
  if (srv_ != nullptr) srv_->observe_http_status(h.status);
  const config::Proxy& bd = be_->def();
  const config::CookieDef& ck = bd.cookie;
  const bool upgrade = h.framing == http::Framing::Tunnel;
  if (h.framing == http::Framing::CloseDelimited || !h.keep_alive()) close_server_ = true;
  if (h.framing == http::Framing::CloseDelimited) close_client_ = true;
  bool insert = false;
  if (!ck.name.empty() && ck.method == config::CookieDef::Method::Insert && srv_ != nullptr &&
      !(ck_client_ == 'V' && cookie_srv_ == last_srv_ && !ck_refresh_) &&
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
      if (ck.method == config::CookieDef::Method::Prefix && srv_ != nullptr &&
          !srv_->def().cookie.empty()) {
        // "NAME=value..." -> "NAME=SRV~value...": the client brings us the server.
        Out t{tmp, sizeof tmp};
        t.put(ck.name);
        t.put("=");
        t.put(srv_->def().cookie);
        t.put("~");
        t.put(f.value.substr(ck.name.size() + 1));
        o.field(f.name, t.ok ? std::string_view(tmp, t.n) : f.value);
        ck_server_ = 'R';
        continue;
      }
    }
    o.field(f.name, f.value);
  }
  if (insert && !(ck.preserve && server_set_cookie)) {
    // A refreshed cookie keeps its first date; a new one (other server) starts afresh.
    bool same = ck_client_ == 'V' && cookie_srv_ == last_srv_;
    std::size_t n = srv_->def().cookie.empty()
                        ? format_remove_cookie(ck, tmp, sizeof tmp)
                        : format_set_cookie(ck, srv_->def().cookie, tmp, sizeof tmp,
                                            req_tv_.tv_sec, same ? ck_first_ : std::nullopt);
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
  std::memmove(res_.buf, res_.buf + h.length, res_.len - h.length);
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
  shed_buffers(false);  // an idle keep-alive connection holds no buffer
  // Nothing pipelined: park the connection and free this session.
  if (req_.len == 0 && req_.buf == nullptr && res_.buf == nullptr) park();
}

void HttpSession::drop_server_conn(bool reusable) {
  cancel_batched_send();
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
                  bool& shut, checks::LazyNoDelay* nagle) -> bool {
    if (readable && !eof && f.len < host_.bufsize()) {
      std::size_t before = f.len;
      if (recv_into(from, f, readable, eof) == Io::Failed) eof = true;
      if (f.len != before) moved = true;
    }
    f.fwd = f.len;
    const std::uint64_t out_before = f.bytes_out;
    if (flush(to, f, writable, nagle) == Io::Failed) return false;
    if (f.bytes_out != out_before) moved = true;  // room again: read `from` again
    if (eof && f.len == 0 && !shut) {
      ::shutdown(to, SHUT_WR);
      shut = true;
      moved = true;
    }
    return true;
  };
  if (!pump(client_.fd, client_.readable, client_.eof, sconn_->fd, s_writable_, req_,
            s_shut_wr_, &sconn_->nagle) ||
      !pump(sconn_->fd, s_readable_, s_eof_, client_.fd, client_.writable, res_,
            client_.shut_wr, nullptr)) {
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
  // A response of our own (or the site's page for it), always followed by a close.
  res_.head_len = write_error_response(be_ != nullptr ? &be_->def() : nullptr, fe_->def(), status,
                                       need(res_.head), host_.bufsize());
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
  svc_job_.cancel();
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
    // At once, not with the turn's batch (close_soon): measured batched,
    // new-connection requests/s (wrk, Connection: close) were 4-5 % lower.
    loop_.close_fd(client_.fd);
    client_.fd = -1;
  }
  req_parser_.reset();
  res_parser_.reset();
  req_.len = res_.len = 0;
  req_.reset_msg();
  res_.reset_msg();
  shed_buffers(true);
  host_.http_session_done(*this);
}

// on-marked-down / on-marked-up / `shutdown sessions server`.
void HttpSession::on_server_shutdown(void* self, TermCause c) {
  auto* h = static_cast<HttpSession*>(self);
  TermPhase p = h->phase_ == Phase::Connecting ? TermPhase::Connect
                : h->res_.head_done             ? TermPhase::Data
                                                : TermPhase::Headers;
  h->term_.set(c, p);
  h->close_all(true);
}

void HttpSession::kill() {
  if (!active()) return;
  close_all(false);
}

void HttpSession::log_transaction() {
  count_transaction();
  const log::Logger* lg = fe_->logger();
  const httpmode::ProxyHttp* rules = fe_->http();
  const log::LogFormat* custom = rules != nullptr ? rules->log_format.get() : nullptr;
  if (lg == nullptr || lg->empty() ||
      !(fe_->def().httplog || fe_->def().tcplog || custom != nullptr) ||
      (fe_->def().dontlognull && req_index_ == 0 && reqline_len_ == 0)) {
    res_.bytes_out = 0;
    req_.bytes_out = 0;
    reqline_len_ = 0;
    return;
  }
  log::HttpLogFields f;
  fill_log_fields(f);
  char line[2048];
  std::size_t n;
  if (custom != nullptr) {
    log::LogContext ctx;
    ctx.http = &f;
    ctx.samples = this;
    ctx.req_captures = f.req_captures;
    ctx.res_captures = f.res_captures;
    ctx.idle = t_req_start_ >= 0 ? t_req_start_ - t_idle_start_ : -1;
    ctx.request_counter = stream_id_;
    ctx.bytes_uploaded = req_.bytes_out;
    ctx.accept_time = req_tv_;
    // Addresses only for custom formats (the frontend's costs a getsockname once).
    char fe_addr[INET6_ADDRSTRLEN], srv_addr[INET6_ADDRSTRLEN];
    log::address_and_port(destination(), fe_addr, ctx.frontend_port);
    log::address_and_port(last_srv_ != nullptr ? &last_srv_->def().addr.storage : nullptr,
                          srv_addr, ctx.server_port);
    ctx.frontend_addr = fe_addr;
    ctx.server_addr = srv_addr;
    ctx.hostname = log::log_host_name();
    log::Line l{line, sizeof line};
    custom->write(ctx, l);
    n = l.n;
  } else {
    n = log::format_httplog(f, line, sizeof line);
  }
  // option log-separate-errors: errors, timeouts, retries and 5xx at "err".
  log::Level level = log::Level::Info;
  if (fe_->def().log_separate_errors &&
      (term_.first() != '-' || status_ >= 500 || retries_ > 0 || redispatched_))
    level = log::Level::Err;
  lg->send(level, std::string_view(line, std::min(n, sizeof line)));
  res_.bytes_out = 0;
  req_.bytes_out = 0;
  reqline_len_ = 0;
}

void HttpSession::fill_log_fields(log::HttpLogFields& f) const {
  f.client_addr = client_addr();
  f.client_port = client_port();
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
  if (tarpit_) f.treq = -1;
  if (!fe_->def().request_captures.empty()) f.req_captures = std::string_view(req_cap_, req_cap_len_);
  if (!fe_->def().response_captures.empty())
    f.res_captures = std::string_view(res_cap_, res_cap_len_);
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
    case Phase::LocalReply:
      at(loop_.now_ms(), ft.client);
      break;
    case Phase::ServiceBody:
      at(t_head_, first_of(ft.http_request, ft.client));
      break;
    case Phase::ServiceWait:
      at(svc_wait_since_, ft.client);
      break;
    case Phase::Tarpit: {
      const config::Timeouts& bt = be_ != nullptr ? be_->def().timeouts : ft;
      at(t_head_, first_of(ft.tarpit, first_of(bt.tarpit, first_of(ft.connect, bt.connect))).value_or(
                      std::chrono::milliseconds(0)));
      break;
    }
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
        // Keep-alive timeout between requests. A request that arrived as the
        // timer fired is served, not closed under (see README, Reloading).
        int pending = 0;
        if (::ioctl(client_.fd, FIONREAD, &pending) == 0 && pending > 0) {
          client_.readable = true;
          progress();
          return;
        }
        close_all(false);
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
          observe(proxy::Observed::ReadTimeout);
          if (retry_after(config::retry_on::kResponseTimeout)) return;
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
    case Phase::LocalReply:
      term_.set(TermCause::ClientTimeout, TermPhase::Data);
      close_all(true);
      return;
    case Phase::ServiceBody:
      fail(408, TermCause::ClientTimeout, TermPhase::Request);
      return;
    case Phase::ServiceWait:  // the stats thread did not answer in time
      svc_job_.cancel();
      fail(504, TermCause::Internal, TermPhase::Request);
      return;
    case Phase::Tarpit:
      t_queue_done_ = loop_.now_ms();
      local_error_page(tarpit_status_, TermCause::ProxyAbort, TermPhase::Tarpit);
      progress();
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
  if (be_ == nullptr && fe_ != nullptr) return fe_->def().id;  // no backend yet: the frontend
  if (be_ == nullptr) return {};
  return be_->def().id;
}

std::optional<std::string_view> HttpSession::http_method() const {
  if (req_.head_done && reqline_len_ > 0) {  // forwarded (logs): from the saved request line
    std::string_view line(reqline_, reqline_len_);
    return line.substr(0, line.find(' '));
  }
  if (req_parser_.head().length == 0 || req_.head_done) return {};
  return req_parser_.view(std::string_view(req_.buf, req_.len)).method();
}

namespace {
// The value of the i-th (0-based) field called `name`, for hdr(name,occ).
bool nth_field(const http::MessageView& v, std::string_view name, std::size_t i,
               std::string_view& out) {
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
}  // namespace

std::optional<std::string_view> HttpSession::http_target() const {
  if (req_parser_.head().length == 0 || req_.head_done) return {};
  return req_parser_.view(std::string_view(req_.buf, req_.len)).target();
}

bool HttpSession::http_req_field(std::string_view name, std::size_t i,
                                 std::string_view& out) const {
  if (req_parser_.head().length == 0 || req_.head_done) return false;
  return nth_field(req_parser_.view(std::string_view(req_.buf, req_.len)), name, i, out);
}

std::optional<std::int64_t> HttpSession::http_status() const {
  if (status_ < 0 || res_.head_done) return {};  // known while the response head is at hand
  return status_;
}

bool HttpSession::http_res_field(std::string_view name, std::size_t i,
                                 std::string_view& out) const {
  if (status_ < 0 || res_.head_done || res_parser_.head().length == 0) return false;
  return nth_field(res_parser_.view(std::string_view(res_.buf, res_.len)), name, i, out);
}

// ---------------------------------------------------------------- rules

bool HttpSession::apply_request_rules(const std::vector<CompiledRule>& rules) {
  httpmode::EditableMessage m;
  m.buf = req_.buf;
  m.len = &req_.len;
  m.cap = host_.bufsize();
  m.parser = &req_parser_;
  m.scratch = need(req_.head);
  log::HttpLogFields f;
  fill_log_fields(f);
  log::LogContext ctx;
  ctx.http = &f;
  httpmode::Verdict v = httpmode::run_rules(rules, false, m, *this, ctx, need(res_.head),
                                            host_.bufsize());
  using K = httpmode::Verdict::Kind;
  switch (v.kind) {
    case K::Continue:
    case K::Allow:
      return true;
    case K::Deny:
      local_error_page(v.status, TermCause::ProxyAbort, TermPhase::Request);
      return false;
    case K::Tarpit:
      tarpit_ = true;
      tarpit_status_ = v.status;
      phase_ = Phase::Tarpit;
      rearm_timer();
      return false;
    case K::Reply:
      local_reply(v.reply_len, v.status, TermCause::Local, TermPhase::Request);
      return false;
    case K::Service:
      start_service(v.service, nullptr, nullptr);
      return false;
    case K::Auth: {
      std::size_t n = write_auth_reply(be_ != nullptr ? &be_->def() : nullptr, fe_->def(),
                                       v.realm, need(res_.head), host_.bufsize());
      if (n == 0) close_client_ = true;
      local_reply(n, 401, TermCause::Local, TermPhase::Request);
      return false;
    }
    case K::RewriteFailed:
      break;
  }
  fail(500, TermCause::ProxyAbort, TermPhase::Request);
  return false;
}

bool HttpSession::apply_response_rules() {
  const httpmode::ProxyHttp* lists[2] = {be_ != nullptr ? be_->http() : nullptr, fe_->http()};
  if (lists[0] == lists[1]) lists[1] = nullptr;
  for (const httpmode::ProxyHttp* p : lists) {
    if (p == nullptr || p->response.empty()) continue;
    httpmode::EditableMessage m;
    m.buf = res_.buf;
    m.len = &res_.len;
    m.cap = host_.bufsize();
    m.parser = &res_parser_;
    m.scratch = need(res_.head);
    m.request_method = req_parser_.head().method;
    log::HttpLogFields f;
    fill_log_fields(f);
    log::LogContext ctx;
    ctx.http = &f;
    httpmode::Verdict v = httpmode::run_rules(p->response, true, m, *this, ctx, nullptr, 0);
    using K = httpmode::Verdict::Kind;
    if (v.kind == K::Allow || v.kind == K::Continue) continue;  // allow ends this list only
    if (v.kind != K::Deny) {
      fail(502, TermCause::ProxyAbort, TermPhase::Headers);
      return false;
    }
    // http-response deny: the server's response is dropped, ours replaces
    // it and the client connection stays open (as haproxy does).
    drop_server_conn(false);
    release_server();
    close_server_ = true;
    if (!req_.body_done) close_client_ = true;
    std::size_t n = error_page_into_head(v.status);
    term_.set(TermCause::ProxyAbort, TermPhase::Headers);
    status_ = v.status;
    res_parser_.reset();
    res_.len = 0;
    start_local_reply(n);
    return false;
  }
  return true;
}

void HttpSession::local_error_page(int status, TermCause c, TermPhase p) {
  std::size_t n = error_page_into_head(status);
  local_reply(n, status, c, p);
}

// The site's page for `status` (errorfile...), else the built-in one, into
// res_.head; an empty site page closes the client without a word.
std::size_t HttpSession::error_page_into_head(int status) {
  const auto st = static_cast<std::uint16_t>(status);
  if (auto n = write_custom_page(be_ != nullptr ? &be_->def() : nullptr, fe_->def(), st,
                                 need(res_.head), host_.bufsize())) {
    if (*n == 0) close_client_ = true;
    return *n;
  }
  std::string_view page = http::error_response(st);
  std::size_t n = std::min(page.size(), host_.bufsize());
  std::memcpy(need(res_.head), page.data(), n);
  return n;
}

// The request's whole body already follows its head in the buffer: `hl`
// grows over it, so the connection can serve the next request after a local
// reply (as haproxy does for a small body). False: not all here, or invalid.
bool HttpSession::skip_buffered_body(const http::Head& h, std::uint32_t& hl) {
  req_.dec.start(h);
  std::size_t at = hl;
  for (int i = 0; i < 1024; ++i) {
    http::BodyEvent ev = req_.dec.decode(std::string_view(req_.buf + at, req_.len - at));
    if (ev.kind == http::BodyEvent::Error) return false;
    at += ev.consumed;
    if (ev.kind == http::BodyEvent::Done) {
      hl = static_cast<std::uint32_t>(at);
      return true;
    }
    if (ev.kind == http::BodyEvent::NeedMore || ev.consumed == 0) return false;
  }
  return false;
}

// A response of our own; the connection stays open for the next request
// unless the request has a body that has not all arrived.
void HttpSession::local_reply(std::size_t len, int status, TermCause c, TermPhase p) {
  term_.set(c, p);
  status_ = status;
  const http::Head& h = req_parser_.head();
  std::uint32_t hl = std::min<std::size_t>(h.length, req_.len);
  // (Only while the received head is still in the buffer: once rewritten
  // for a server, the body may be partly sent and the connection closes.)
  if (h.framing != http::Framing::None &&
      (req_.head_done || hl < h.length || !skip_buffered_body(h, hl)))
    close_client_ = true;
  std::memmove(req_.buf, req_.buf + hl, req_.len - hl);
  req_.len -= hl;
  req_.fwd = req_.sent = req_.head_len = req_.head_sent = 0;
  req_.head_done = req_.body_done = true;
  start_local_reply(len);
}

// Sends res_.head[0..len) (closing the client after it when close_client_
// says so), then the transaction ends.
void HttpSession::start_local_reply(std::size_t len) {
  std::string_view head(need(res_.head), len);
  constexpr std::string_view kClose = "connection: close\r\n";
  const auto end = head.find("\r\n\r\n");
  if (close_client_ && end != std::string_view::npos && len + kClose.size() <= host_.bufsize() &&
      head.substr(0, end).find("onnection:") == std::string_view::npos) {
    char* at = need(res_.head) + end + 2;
    std::memmove(at + kClose.size(), at, len - end - 2);
    std::memcpy(at, kClose.data(), kClose.size());
    len += kClose.size();
  }
  res_.head_len = len;
  res_.head_sent = 0;
  res_.fwd = res_.sent = res_.len = 0;
  res_.head_done = res_.body_done = true;
  phase_ = Phase::LocalReply;
}

bool HttpSession::step_local_reply() {
  std::size_t budget = stats::Offload::kSendSlice;
  while (svc_sent_ < svc_out_.size()) {
    if (!client_.writable) return false;
    if (budget == 0) {
      if (watch_client()) loop_.requeue(client_.fd, 0);
      stats::Offload::yield_between_slices();
      return false;
    }
    ssize_t w = ::send(client_.fd, svc_out_.data() + svc_sent_,
                       std::min(svc_out_.size() - svc_sent_, budget), MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      client_.writable = false;
      want_out(client_.fd);
      return false;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      term_.set(TermCause::ClientAbort, TermPhase::Data);
      close_all(true);
      return false;
    }
    svc_sent_ += static_cast<std::size_t>(w);
    budget -= static_cast<std::size_t>(w);
    res_.bytes_out += static_cast<std::uint64_t>(w);
  }
  if (!svc_out_.empty()) {
    // A large page (Prometheus, stats) is not kept between requests.
    stats::Offload::shared().release(svc_out_);
    svc_sent_ = 0;
  }
  Io io = flush(client_.fd, res_, client_.writable);
  if (io == Io::Blocked) return false;
  if (io == Io::Failed) {
    term_.set(TermCause::ClientAbort, TermPhase::Data);
    close_all(true);
    return false;
  }
  end_transaction();
  return true;
}

}  // namespace sluice::httpmode
