#include "httpmode/conn_pool.h"

#include <sys/epoll.h>
#include <sys/socket.h>

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
  c->out_armed = false;
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
  const config::ServerDef& def = c->server->def();
  if (def.pool_max_conn >= 0) {
    auto same = static_cast<int>(
        std::count_if(idle_.begin(), idle_.end(), [&](ServerConn* i) { return i->server == c->server; }));
    if (same >= def.pool_max_conn) {
      discard(c);
      return;
    }
  }
  c->parked_at = loop_.now_ms();
  const std::int64_t due = c->parked_at + def.pool_purge_delay.count();
  if (purge_at_ == 0 || due < purge_at_) {
    purge_at_ = due;
    loop_.arm_at(purge_, due);
  }
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
  if (c->fd >= 0) loop_.close_soon(c->fd);
  c->fd = -1;
  c->owner = nullptr;
  c->server = nullptr;
  free_.push_back(c);
}

void ServerConnPool::on_idle_event(ServerConn* c) {
  discard(c);
}

void ServerConnPool::purge() {
  purge_at_ = 0;
  const std::int64_t now = loop_.now_ms();
  std::int64_t next = 0;
  for (std::size_t i = idle_.size(); i-- > 0;) {
    ServerConn* c = idle_[i];
    const std::int64_t due = c->parked_at + c->server->def().pool_purge_delay.count();
    if (due <= now) {
      discard(c);
    } else if (next == 0 || due < next) {
      next = due;
    }
  }
  if (next != 0) {
    purge_at_ = next;
    loop_.arm_at(purge_, next);
  }
}

HandOff ServerConnPool::hand_off_idle(const std::function<HandOff(const ServerConn&)>& give) {
  // Oldest first: the most recently parked ones stay for our own last
  // requests the longest.
  while (!idle_.empty()) {
    ServerConn* c = idle_.front();
    const HandOff r = give(*c);
    if (r != HandOff::Sent) return r;
    // The successor has the file too: out of our epoll set before closing.
    loop_.remove(c->fd);
    discard(c);
  }
  return HandOff::Sent;
}

bool ServerConnPool::adopt(int fd, const proxy::Server* s) {
  ServerConn* c = make(nullptr);
  c->fd = fd;
  c->server = s;
  c->reused = true;
  c->nagle.reset(s->addr().family() != AF_UNIX);
  if (!loop_.add(fd, c, core::Loop::kReadEvents)) {
    discard(c);  // closes it
    return false;
  }
  park(c);
  return true;
}

void ServerConnPool::close_all() {
  loop_.cancel(purge_);
  purge_at_ = 0;
  while (!idle_.empty()) discard(idle_.back());
}

}  // namespace sluice::httpmode
