#pragma once
// One worker thread's share of the engine: its loop, listeners, sessions
// (pooled), buffers, pipes, per-backend balancers and health checks.

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/listener.h"
#include "core/loop.h"
#include "httpmode/sessions.h"
#include "proxy/balancer.h"
#include "proxy/frontend.h"
#include "proxy/server_checks.h"
#include "tcp/pools.h"
#include "tcp/session.h"

namespace sluice::runtime {

class EngineImpl;

class Worker final : public tcp::SessionHost {
 public:
  Worker(EngineImpl& engine, core::Loop& loop, unsigned index);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // On the worker's thread, before its loop runs.
  void init();
  // Listener pause state follows the engine's flags (maxconn, stopping).
  void apply_pause();
  // A keep-alive connection handed over by the worker this one replaces.
  void adopt(int fd, const sockaddr_storage& peer, socklen_t len, proxy::Frontend& fe);
  // An idle server connection handed over the same way: into our pool.
  void adopt_server(int fd, proxy::Server& s);
  void soft_stop();
  void hard_stop();

  unsigned index() const { return index_; }

  // Runtime API (worker_cli.cpp), on this worker's thread: checks of a
  // server added by `add server`, and `show sess` lines.
  void add_server_checks(proxy::Backend& be, proxy::Server& s);
  void run_server_checks(proxy::Server& s, bool run);
  void drop_server_checks(proxy::Server& s);
  // The checks of `s` run by this worker (configured or added); null if none.
  proxy::ServerChecks* find_server_checks(const proxy::Server& s) const;
  std::string describe_sessions() const;
  unsigned live_sessions() const { return live_; }

  // tcp::SessionHost
  core::Loop& loop() override { return loop_; }
  tcp::BufferPool& buffers() override { return buffers_; }
  tcp::PipePool& pipes() override { return pipes_; }
  proxy::ThreadBalancer& balancer(proxy::Backend& be) override { return *balancers_[be.index()]; }
  unsigned active_connections() const override;
  void session_done(tcp::TcpSession& s) override;

 private:
  struct BoundListener {
    std::unique_ptr<core::Listener> listener;
    proxy::Frontend* frontend = nullptr;
  };
  void on_accept(int fd, const sockaddr_storage& peer, socklen_t len, proxy::Frontend& fe);
  tcp::TcpSession* get_session();
  void maybe_end();

  EngineImpl& engine_;
  core::Loop& loop_;
  unsigned index_;
  tcp::BufferPool buffers_;
  tcp::PipePool pipes_;
  std::vector<std::unique_ptr<proxy::ThreadBalancer>> balancers_;
  std::vector<BoundListener> listeners_;
  std::vector<std::unique_ptr<tcp::TcpSession>> sessions_;  // every session ever made
  std::vector<tcp::TcpSession*> free_;
  std::vector<std::unique_ptr<proxy::ServerChecks>> checks_;
  std::unique_ptr<httpmode::HttpSessions> http_;  // mode http frontends
  std::map<proxy::Server*, std::unique_ptr<proxy::ServerChecks>> dyn_checks_;
  unsigned live_ = 0;
  bool stopping_ = false;
  std::int64_t stop_at_ms_ = 0;  // when the soft stop began (loop time)
  // Keep-alive clients are told to close at spread turns over this window
  // (ms; 0: all at once, -1: never). See close_on_stop().
  std::int64_t close_spread_ms_ = 0;
  bool close_on_stop(std::uint32_t key, const proxy::Frontend& fe) const;
  bool ended_ = false;
};

}  // namespace sluice::runtime
