#include "httpmode/conn_pool.h"

#include <sys/epoll.h>

#include <algorithm>

#include "httpmode/session.h"

namespace sluice::httpmode {

void ServerConn::on_events(std::uint32_t events) {
  if (fd < 0) return;
  if (owner != nullptr) {
    owner->on_server_events(events);
    return;
  }
  // An idle connection has nothing to say: data, EOF or an error end it
  // (a late write-space edge does not).
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) pool->on_idle_event(this);
}

ServerConnPool::~ServerConnPool() { close_all(); }

ServerConn* ServerConnPool::make(HttpSession* owner) {
  ServerConn* c;
  if (!free_.empty()) {
    c = free_.back();
    free_.pop_back();
  } else {
    all_.push_back(std::make_unique<ServerConn>());
    c = all_.back().get();
  }
  c->fd = -1;
  c->server = nullptr;
  c->owner = owner;
  c->pool = this;
  c->reused = false;
  return c;
}

ServerConn* ServerConnPool::take_idle(const proxy::Server* s, HttpSession* owner) {
  for (std::size_t i = idle_.size(); i-- > 0;) {
    ServerConn* c = idle_[i];
    if (c->server != s) continue;
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    c->owner = owner;
    c->reused = true;
    return c;
  }
  return nullptr;
}

void ServerConnPool::park(ServerConn* c) {
  c->owner = nullptr;
  if (idle_.size() >= kMaxIdle) {
    ServerConn* old = idle_.front();
    idle_.erase(idle_.begin());
    discard(old);
  }
  idle_.push_back(c);
}

void ServerConnPool::discard(ServerConn* c) {
  auto it = std::find(idle_.begin(), idle_.end(), c);
  if (it != idle_.end()) idle_.erase(it);
  if (c->fd >= 0) loop_.close_fd(c->fd);
  c->fd = -1;
  c->owner = nullptr;
  c->server = nullptr;
  free_.push_back(c);
}

void ServerConnPool::on_idle_event(ServerConn* c) {
  discard(c);
}

void ServerConnPool::close_all() {
  while (!idle_.empty()) discard(idle_.back());
}

}  // namespace sluice::httpmode
