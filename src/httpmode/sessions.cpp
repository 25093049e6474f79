#include "httpmode/sessions.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>

namespace sluice::httpmode {

HttpSessions::HttpSessions(core::Loop& loop, std::size_t bufsize, Hooks hooks)
    : loop_(loop), bufsize_(bufsize), hooks_(std::move(hooks)), pool_(loop) {}

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

void HttpSessions::start(int fd, const sockaddr_storage& peer, socklen_t len,
                         proxy::Frontend& fe) {
  HttpSession* s = take_session();
  ++live_;
  s->start(fd, peer, len, fe);
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
  loop_.close_fd(fd);
  --live_;
  hooks_.done(fe);
}

void HttpSessions::soft_stop() {
  for (auto& s : sessions_)
    if (s->active()) s->on_stopping();
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
