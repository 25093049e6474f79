#pragma once
// One worker thread's HTTP-mode sessions: a pool of HttpSession objects (made
// once, reused), the thread's idle server connections, and the glue to the
// worker that owns them.

#include <functional>
#include <memory>
#include <vector>

#include "httpmode/conn_pool.h"
#include "httpmode/session.h"

namespace sluice::httpmode {

class HttpSessions final : public HttpHost {
 public:
  struct Hooks {
    std::function<proxy::ThreadBalancer&(proxy::Backend&)> balancer;
    std::function<unsigned()> active_connections;
    std::function<bool(std::uint32_t, const proxy::Frontend&)> close_on_stop;  // see HttpHost
    // A session ended: release its frontend slot (called before reuse).
    std::function<void(proxy::Frontend*)> done;
    // Reload hand-over (runtime/handoff.h): whether this soft stop has a
    // successor to give idle connections to, and the giving of one.
    std::function<bool()> can_hand_off;
    std::function<HandOff(const IdleConn&)> hand_off;
    std::function<HandOff(const ServerConn&)> hand_off_server;
  };
  HttpSessions(core::Loop& loop, std::size_t bufsize, Hooks hooks);
  ~HttpSessions() override;

  void start(int fd, const sockaddr_storage& peer, socklen_t len, proxy::Frontend& fe,
             bool adopted = false);
  void soft_stop();
  void kill_all();
  unsigned live() const { return live_; }
  // `show sess`: a line per live session.
  // `show sess` lines: live sessions and parked keep-alive connections.
  void describe(std::string& out) const;

  // HttpHost
  core::Loop& loop() override { return loop_; }
  std::size_t bufsize() const override { return bufsize_; }
  ServerConnPool& server_conns() override { return pool_; }
  proxy::ThreadBalancer& balancer(proxy::Backend& be) override { return hooks_.balancer(be); }
  unsigned active_connections() const override { return hooks_.active_connections(); }
  bool close_on_stop(std::uint32_t key, const proxy::Frontend& fe) const override {
    return hooks_.close_on_stop(key, fe);
  }
  void http_session_done(HttpSession& s) override;
  IdleConn& park(HttpSession& s) override;
  void resume(IdleConn& c, std::uint32_t events) override;
  unsigned parked() const { return parked_; }
  // Soft stop with a successor taking our idle connections (reload).
  bool handing_off() const { return handing_off_; }
  char* take_buffer() override;
  void give_buffer(char* b) override;

 private:
  core::Loop& loop_;
  std::size_t bufsize_;
  Hooks hooks_;
  ServerConnPool pool_;
  std::vector<std::unique_ptr<HttpSession>> sessions_;
  std::vector<HttpSession*> free_;
  HttpSession* take_session();
  void free_session_later(HttpSession* s);
  void unpark(IdleConn& c);  // out of the list, back to the free records
  void expire(IdleConn& c);  // keep-alive timeout: close (unless a request came)
  void close_parked(IdleConn& c);
  // Soft stop with a successor: every parked connection is handed over (and
  // each one that parks later); a full channel is tried again shortly.
  void hand_off_parked();
  bool handing_off_ = false;
  bool hand_off_queued_ = false;
  core::Timer hand_off_retry_;
  std::vector<std::unique_ptr<IdleConn>> idle_;  // every record ever made
  std::vector<IdleConn*> idle_free_;
  IdleConn* parked_head_ = nullptr;
  unsigned parked_ = 0;
  // Spare buffers, kept up to kSpareBuffers; the rest go back to the heap.
  static constexpr std::size_t kSpareBuffers = 512;
  std::vector<char*> spare_;
  unsigned live_ = 0;
};

}  // namespace sluice::httpmode
