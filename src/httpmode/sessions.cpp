#include "httpmode/sessions.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>

namespace sluice::httpmode {

HttpSessions::HttpSessions(core::Loop& loop, std::size_t bufsize, Hooks hooks)
    : loop_(loop), bufsize_(bufsize), hooks_(std::move(hooks)), pool_(loop) {
  hand_off_retry_.set_callback([this] { hand_off_parked(); });
}

HttpSessions::~HttpSessions() {
  kill_all();
  pool_.close_all();
  sessions_.clear();  // they give their buffers back
  for (char* b : spare_) delete[] b;
}

char* HttpSessions::take_buffer() {
  if (spare_.empty()) return new char[bufsize_];
  char* b = spare_.back();
  spare_.pop_back();
  return b;
}

void HttpSessions::give_buffer(char* b) {
  if (spare_.size() < kSpareBuffers)
    spare_.push_back(b);
  else
    delete[] b;
}

HttpSession* HttpSessions::take_session() {
  if (!free_.empty()) {
    HttpSession* s = free_.back();
    free_.pop_back();
    return s;
  }
  sessions_.push_back(std::make_unique<HttpSession>(*this));
  return sessions_.back().get();
}

void HttpSessions::free_session_later(HttpSession* s) {
  // Reuse after this batch: a pending event may still name its descriptors.
  loop_.defer([this, s] { free_.push_back(s); });
}

void HttpSessions::start(int fd, const sockaddr_storage& peer, socklen_t len, proxy::Frontend& fe,
                         bool adopted) {
  HttpSession* s = take_session();
  ++live_;
  s->start(fd, peer, len, fe, adopted);
}

void HttpSessions::http_session_done(HttpSession& s) {
  --live_;
  hooks_.done(s.frontend());
  free_session_later(&s);
}

IdleConn& HttpSessions::park(HttpSession& s) {
  IdleConn* c;
  if (!idle_free_.empty()) {
    c = idle_free_.back();
    idle_free_.pop_back();
  } else {
    idle_.push_back(std::make_unique<IdleConn>());
    c = idle_.back().get();
    c->host = this;
    c->timer.set_callback([this, c] { expire(*c); });
  }
  c->prev = nullptr;
  c->next = parked_head_;
  if (parked_head_ != nullptr) parked_head_->prev = c;
  parked_head_ = c;
  ++parked_;
  free_session_later(&s);
  // Stopping with a successor: this one goes too, once the caller has filled
  // `c` in (after the batch).
  if (handing_off_ && !hand_off_queued_) {
    hand_off_queued_ = true;
    loop_.defer([this] { hand_off_parked(); });
  }
  return *c;
}

void HttpSessions::unpark(IdleConn& c) {
  loop_.cancel(c.timer);
  if (c.prev != nullptr)
    c.prev->next = c.next;
  else
    parked_head_ = c.next;
  if (c.next != nullptr) c.next->prev = c.prev;
  c.prev = c.next = nullptr;
  --parked_;
  idle_free_.push_back(&c);
}

void HttpSessions::resume(IdleConn& c, std::uint32_t events) {
  HttpSession* s = take_session();
  unpark(c);
  s->resume(c, events);  // `c` is only read before anything can reuse it
}

void HttpSessions::expire(IdleConn& c) {
  // A request that arrived just as the keep-alive time ran out is served,
  // not dropped (its event may be in this very batch).
  int pending = 0;
  if (::ioctl(c.fd, FIONREAD, &pending) == 0 && pending > 0) {
    resume(c, EPOLLIN);
    return;
  }
  close_parked(c);
}

void HttpSessions::close_parked(IdleConn& c) {
  const int fd = c.fd;
  proxy::Frontend* fe = c.fe;
  unpark(c);
  loop_.close_soon(fd);
  --live_;
  hooks_.done(fe);
}

void HttpSessions::soft_stop() {
  for (auto& s : sessions_)
    if (s->active()) s->on_stopping();
  handing_off_ = hooks_.can_hand_off && hooks_.hand_off && hooks_.can_hand_off();
  if (handing_off_) hand_off_parked();
}

void HttpSessions::hand_off_parked() {
  hand_off_queued_ = false;
  if (!handing_off_) return;
  // Idle server connections first: the successor has them in its pool by
  // the time the clients' next requests reach it (the channel keeps order).
  // Not sent: a full channel is tried again shortly; a successor that takes
  // no more leaves the rest parked, and their next response says
  // Connection: close as without a successor (close_on_stop() now says so).
  auto stopped = [this](HandOff r) {
    if (r == HandOff::Later) loop_.arm(hand_off_retry_, core::Millis(5));
    if (r == HandOff::Never) handing_off_ = false;
    return r == HandOff::Later || r == HandOff::Never;
  };
  if (hooks_.hand_off_server && stopped(pool_.hand_off_idle(hooks_.hand_off_server))) return;
  for (IdleConn* c = parked_head_; c != nullptr;) {
    IdleConn* next = c->next;
    const HandOff r = hooks_.hand_off(*c);
    if (stopped(r)) return;
    if (r == HandOff::Skip) {  // stays parked; its next response says Connection: close
      c = next;
      continue;
    }
    // The successor has the connection: take ours out of the epoll set
    // before closing (the file lives on in the other process, so closing
    // alone would leave it registered here).
    loop_.remove(c->fd);
    close_parked(*c);
    c = next;
  }
}

void HttpSessions::describe(std::string& out) const {
  const std::int64_t now = loop_.now_ms();
  for (const auto& s : sessions_)
    if (s->active()) s->describe(out, now);
  for (const IdleConn* c = parked_head_; c != nullptr; c = c->next)
    describe_session_line(out, c, &c->peer.sa, c->fe, nullptr, nullptr, now - c->idle_since);
}

void HttpSessions::kill_all() {
  while (parked_head_ != nullptr) close_parked(*parked_head_);
  for (auto& s : sessions_) s->kill();
  pool_.close_all();
}

}  // namespace sluice::httpmode
