#pragma once
// The Engine's implementation, shared by engine.cpp and worker.cpp.

#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include "core/workers.h"
#include "log/logger.h"
#include "proxy/backend.h"
#include "proxy/directory.h"
#include "proxy/frontend.h"
#include "runtime/cli.h"
#include "runtime/cli_server.h"
#include "runtime/engine.h"
#include "runtime/handoff.h"
#include "runtime/worker.h"
#include "stats/alerts.h"
#include "stats/email_alert.h"
#include "stats/graphite.h"

namespace sluice::runtime {

// Listening fds of one bind address: one per thread (SO_REUSEPORT) or one
// shared UNIX socket, dup()ed per thread when the workers start.
struct BoundAddress {
  proxy::Frontend* frontend = nullptr;
  std::vector<int> fds;  // per thread; size 1 when shared
  bool shared = false;
  std::string key;  // ListenInventory::key of the address and options (`_getsocks`)
};

// A server's health check, placed on one thread.
struct CheckPlacement {
  proxy::Backend* backend = nullptr;
  proxy::Server* server = nullptr;
  unsigned thread = 0;
  std::chrono::milliseconds first_delay{0};
};

class EngineImpl final : public Engine {
 public:
  EngineImpl(const config::Model& model, log::Logger& logger, ListenerSource source);
  ~EngineImpl() override;

  Result<void> build();
  void start() override;
  std::vector<std::string> take_warnings() override { return std::move(warnings_); }
  void soft_stop() override;
  void hard_stop() override;
  void wait() override;
  void set_handoff(int in, int out) override;

  // ---- reload hand-over (engine_handoff.cpp)
  // Soft stop with a successor that named its frontends (read by
  // soft_stop()) and still takes connections.
  bool handing_off() const {
    return !handoff_frontends_.empty() && handoff_out_.load(std::memory_order_acquire) >= 0 &&
           !handoff_broken_.load(std::memory_order_acquire);
  }
  // `_handoff` on the stats socket (the -sf form): the channel to the
  // process replacing this one (the newest offer), only before the soft stop.
  bool take_handoff_channel(int fd);
  // Whether the successor has `fe` (the names it sent, read at the soft
  // stop): only such connections are handed over.
  bool hands_over(const proxy::Frontend& fe) const;
  // Give a parked connection to the successor (any worker thread).
  httpmode::HandOff hand_off(const httpmode::IdleConn& c);
  httpmode::HandOff hand_off_server(const httpmode::ServerConn& c);
  void start_handoff_in(Worker& w);  // on worker 0's thread
  void read_successor_frontends();   // soft_stop(), before the workers stop
  void receive_handoffs();           // worker 0's thread

  // ---- shared with workers
  const config::Model& model() const { return model_; }
  std::vector<proxy::BackendPtr>& backends() { return backends_; }
  std::vector<proxy::FrontendPtr>& frontends() { return frontends_; }
  std::vector<BoundAddress>& bound() { return bound_; }
  std::vector<CheckPlacement>& check_placements() { return checks_; }
  unsigned threads() const { return nthreads_; }
  std::atomic<unsigned>& actconn() { return actconn_; }
  // The global maxconn now (`set maxconn global` lowers it), and as configured.
  unsigned maxconn() const { return maxconn_.load(std::memory_order_relaxed); }
  unsigned hard_maxconn() const { return hard_maxconn_; }
  // `set maxconn global`: the new limit; listeners pause or resume at once.
  void set_maxconn(unsigned m);
  void set_frontend_maxconn(proxy::Frontend& fe, unsigned m);
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  bool global_paused() const { return global_paused_.load(std::memory_order_acquire); }

  // A connection was accepted / ended on `w`: keep listeners paused while a
  // limit (global or frontend maxconn) is reached.
  // Reserve a global and a frontend slot before accepting (false: full).
  bool admit(Worker& w, proxy::Frontend& fe);
  // Give back a slot reserved by admit() (accept found nothing, or a session ended).
  void release(Worker& w, proxy::Frontend& fe);
  void on_session_start(Worker& w, proxy::Frontend& fe);
  void on_session_end(Worker& w, proxy::Frontend& fe);

  // ---- runtime API (engine_cli.cpp)
  Result<void> build_cli();   // open the stats sockets, fill the command environment
  void start_cli(Worker& w);  // on worker 0's thread
  void stop_cli();            // any thread

 private:
  void broadcast_pause(Worker& self);

  config::Model model_;  // our own copy: runtime objects point into it
  log::Logger& logger_;
  ListenerSource source_;
  std::vector<std::unique_ptr<log::Logger>> proxy_loggers_;
  std::vector<proxy::BackendPtr> backends_;
  std::vector<proxy::FrontendPtr> frontends_;
  proxy::Directory directory_;
  std::vector<std::string> warnings_;
  std::vector<std::unique_ptr<httpmode::ProxyHttp>> http_rules_;  // per proxy with rules
  std::vector<BoundAddress> bound_;
  std::vector<CheckPlacement> checks_;
  unsigned nthreads_ = 1;
  unsigned hard_maxconn_ = 0;
  std::atomic<unsigned> maxconn_{0};
  std::atomic<unsigned> actconn_{0};
  std::atomic<bool> global_paused_{false};
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::unique_ptr<core::Workers> pool_;
  std::vector<std::unique_ptr<Worker>> workers_;  // destroyed before pool_ (declared after)
  std::unique_ptr<CliServer> cli_;
  std::unique_ptr<stats::GraphitePusher> graphite_;  // on worker 0's loop
  std::unique_ptr<stats::AlertWatch> alerts_;        // on worker 0's loop
  std::unique_ptr<stats::EmailAlerts> email_;        // on worker 0's loop
  CliEnv cli_env_;
  std::map<proxy::Server*, unsigned> dyn_check_thread_;    // CLI thread only
  std::map<const proxy::Server*, unsigned> check_thread_;  // static servers' checks
  std::int64_t start_wall_s_ = 0;
  int handoff_in_ = -1;
  std::atomic<int> handoff_out_{-1};
  std::atomic<bool> handoff_broken_{false};
  // The successor's frontends (ours, by name), set by soft_stop() before
  // the workers are told (so read-only for them); empty: none confirmed.
  std::vector<const proxy::Frontend*> handoff_frontends_;
  httpmode::HandOff send_handoff(int fd, const HandoffMeta& m);
  std::unique_ptr<core::IoHandler> handoff_reader_;  // on worker 0's loop
  core::Loop* handoff_loop_ = nullptr;
  // Round-robin over the workers, clients and server connections each from
  // the first worker, so that a thread gets server connections for its clients.
  unsigned handoff_next_client_ = 0;
  unsigned handoff_next_server_ = 0;
};

}  // namespace sluice::runtime
