#include "httpmode/sessions.h"

namespace sluice::httpmode {

HttpSessions::HttpSessions(core::Loop& loop, std::size_t bufsize, Hooks hooks)
    : loop_(loop), bufsize_(bufsize), hooks_(std::move(hooks)), pool_(loop) {}

HttpSessions::~HttpSessions() {
  kill_all();
  pool_.close_all();
}

void HttpSessions::start(int fd, const sockaddr_storage& peer, socklen_t len,
                         proxy::Frontend& fe) {
  HttpSession* s;
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    sessions_.push_back(std::make_unique<HttpSession>(*this));
    s = sessions_.back().get();
  }
  ++live_;
  s->start(fd, peer, len, fe);
}

void HttpSessions::http_session_done(HttpSession& s) {
  --live_;
  hooks_.done(s.frontend());
  HttpSession* sp = &s;
  // Reuse after this batch: a pending event may still name its descriptors.
  loop_.defer([this, sp] { free_.push_back(sp); });
}

void HttpSessions::soft_stop() {
  for (auto& s : sessions_)
    if (s->active()) s->on_stopping();
}

void HttpSessions::kill_all() {
  for (auto& s : sessions_) s->kill();
  pool_.close_all();
}

}  // namespace sluice::httpmode
