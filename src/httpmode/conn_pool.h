#pragma once
// Per-thread pool of server connections for HTTP mode. A ServerConn is
// registered with the loop once for its whole life; handing it from a
// session to the idle list and back only changes its owner pointer, so
// reusing a connection costs no epoll_ctl.
//
// `pool-low-conn N` (HAProxy): the idle count of a server below which a
// thread does not take idle connections from other threads, so that each
// thread keeps a few of its own. Here a thread never takes another's idle
// connections and keeps every connection it parks (up to pool-max-conn
// and pool-purge-delay), which is what the setting asks for at any N: the
// value is accepted, validated and kept on the server (ServerDef), and
// nothing in the pool depends on it.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "checks/outgoing.h"
#include "core/loop.h"
#include "proxy/server.h"

namespace sluice::httpmode {

class HttpSession;
class ServerConnPool;

// How handing an idle connection to a reload's successor went
// (runtime/handoff.h): it is the successor's now, the channel is full for
// the moment, the successor takes no more, or this one stays (the
// successor has no frontend for it).
enum class HandOff { Sent, Later, Never, Skip };

class ServerConn final : public core::IoHandler {
 public:
  int fd = -1;
  const proxy::Server* server = nullptr;
  HttpSession* owner = nullptr;  // nullptr while idle in the pool
  ServerConnPool* pool = nullptr;
  bool reused = false;  // served an earlier request
  bool out_armed = false;  // EPOLLOUT is in the epoll set (HttpSession::want_out)
  checks::LazyNoDelay nagle;
  std::int64_t parked_at = 0;  // when it last went idle (pool-purge-delay)
  void on_events(std::uint32_t events) override;
};

class ServerConnPool {
 public:
  // Idle connections kept per thread; the oldest goes when full.
  static constexpr std::size_t kMaxIdle = 1024;

  explicit ServerConnPool(core::Loop& loop) : loop_(loop) {
    purge_.set_callback([this] { purge(); });
  }
  ~ServerConnPool();
  ServerConnPool(const ServerConnPool&) = delete;
  ServerConnPool& operator=(const ServerConnPool&) = delete;

  // An unconnected ServerConn object (fd -1), owned by `owner`.
  ServerConn* make(HttpSession* owner);
  // The most recently parked idle connection to `s`, or nullptr.
  ServerConn* take_idle(const proxy::Server* s, HttpSession* owner);
  // Keep an open connection for reuse, within the server's pool-max-conn
  // (per thread); closed after its pool-purge-delay idle.
  void park(ServerConn* c);
  // Close its fd (if any) and recycle the object.
  void discard(ServerConn* c);
  void close_all();
  std::size_t idle() const { return idle_.size(); }

  // Reload hand-over: offer the idle connections to `give`, stopping at the
  // first that is not Sent (returned; Sent when all went).
  HandOff hand_off_idle(const std::function<HandOff(const ServerConn&)>& give);
  // An idle connection to `s` handed over by the worker this one replaces:
  // joins the loop and the idle list. False (fd closed) if it cannot.
  bool adopt(int fd, const proxy::Server* s);

 private:
  friend class ServerConn;
  void on_idle_event(ServerConn* c);
  void purge();
  core::Loop& loop_;
  core::Timer purge_;
  std::int64_t purge_at_ = 0;  // 0: not armed
  std::vector<std::unique_ptr<ServerConn>> all_;
  std::vector<ServerConn*> free_;
  std::vector<ServerConn*> idle_;
};

}  // namespace sluice::httpmode
