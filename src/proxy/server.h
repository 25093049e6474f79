#pragma once
// A server's runtime object: configuration, atomic state shared by every
// thread, its queue and counters. Owned by its Backend.

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "checks/check_types.h"
#include "checks/duration_watch.h"
#include "checks/health.h"
#include "checks/overrides.h"
#include "config/model.h"
#include "proxy/check_history.h"
#include "proxy/counters.h"
#include "proxy/queue.h"
#include "proxy/server_links.h"

namespace sluice::proxy {

class Backend;

// What a session saw of a server, for passive health (`observe`). The
// order is the table's in server.cpp.
enum class Observed : std::uint8_t {
  L4Ok,         // connection established
  L4Err,        // connection refused, reset or timed out
  HttpOk,       // a valid response: 100-499, 501, 505
  HttpSts,      // any other status (5xx)
  HttpHdrRsp,   // unparsable response head
  HttpRsp,      // invalid response
  ReadError,    // read error before the response head
  ReadTimeout,  // server timeout before the response head
  BrokenPipe,   // the server closed before the response head
};
// HAProxy's words for it, in "Detected N consecutive errors, last one was: ...".
const char* observed_name(Observed o);

// Who acts when error-limit consecutive errors were observed (the server's
// check, on its own thread). Called from the session's thread.
class ObserveSink {
 public:
  virtual ~ObserveSink() = default;
  virtual void on_observed_errors(Observed last, unsigned count) = 0;
};

// Admin state bits (HAProxy's srv_admin idea): forced maintenance, drain.
// kAdminCheckDrain: drained by a check (disable-on-404 answer, agent "drain").
enum AdminBits : std::uint8_t { kAdminMaint = 1, kAdminDrain = 2, kAdminCheckDrain = 4 };

class Server {
 public:
  Server(const config::ServerDef& def, Backend& backend, std::uint32_t index);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const config::ServerDef& def() const { return def_; }
  const std::string& name() const { return def_.name; }
  Backend& backend() const { return backend_; }
  std::uint32_t index() const { return index_; }
  bool backup() const { return def_.backup; }
  // The connection limit: configured, or set by the agent ("maxconn:N")
  // or the runtime API.
  unsigned maxconn() const { return maxconn_.load(std::memory_order_relaxed); }
  void set_maxconn(unsigned m) { maxconn_.store(m, std::memory_order_relaxed); }

  // Where to connect: the configured address until the runtime API sets
  // another (`set server addr`). Old addresses stay alive (a session on
  // another thread may still read one), so reading never locks.
  const config::Address& addr() const { return *addr_.load(std::memory_order_acquire); }
  void set_addr(const config::Address& a);

  // Where the health check and the agent check connect, and what the agent
  // is sent, as the runtime API changed them (`set server ... check-addr`,
  // `agent-send`...). Written on the CLI's thread; ServerChecks reads a copy.
  checks::CheckOverrides health_overrides() const {
    std::lock_guard<std::mutex> g(overrides_mu_);
    return health_overrides_;
  }
  checks::CheckOverrides agent_overrides() const {
    std::lock_guard<std::mutex> g(overrides_mu_);
    return agent_overrides_;
  }
  template <class Fn>
  void change_overrides(Fn fn) {
    std::lock_guard<std::mutex> g(overrides_mu_);
    fn(health_overrides_, agent_overrides_);
  }

  // Added by `add server` (runtime API); removed ones stay as tombstones
  // (balancers index servers by position) until the process ends.
  bool dynamic() const { return dynamic_; }
  void set_dynamic() {
    dynamic_ = true;
    if (!def_.check) check_.health.store(0);  // as haproxy shows an added server
  }
  bool removed() const { return removed_.load(std::memory_order_acquire); }
  void set_removed() { removed_.store(true, std::memory_order_release); }

  // `disable health` / `disable agent`: the check's verdict is set aside.
  std::atomic<bool>& health_enabled() { return health_enabled_; }
  std::atomic<bool>& agent_enabled() { return agent_enabled_; }
  bool health_enabled() const { return health_enabled_.load(std::memory_order_acquire); }
  bool agent_enabled() const { return agent_enabled_.load(std::memory_order_acquire); }

  // Operational state: health checks say UP or DOWN (always UP without check).
  bool up() const { return up_.load(std::memory_order_acquire); }
  void set_up(bool up) { up_.store(up, std::memory_order_release); }
  std::uint8_t admin() const { return admin_.load(std::memory_order_acquire); }
  void set_admin(std::uint8_t bits) { admin_.store(bits, std::memory_order_release); }
  bool maint() const { return admin() & kAdminMaint; }
  // Set or clear one admin bit atomically (the runtime API and checks of
  // another thread may change other bits at the same time). True if it changed.
  bool change_admin(std::uint8_t bit, bool on) {
    std::uint8_t before =
        on ? admin_.fetch_or(bit, std::memory_order_acq_rel)
           : admin_.fetch_and(static_cast<std::uint8_t>(~bit), std::memory_order_acq_rel);
    return ((before & bit) != 0) != on;
  }
  std::uint32_t weight() const { return weight_.load(std::memory_order_relaxed); }
  void set_weight(std::uint32_t w) { weight_.store(w, std::memory_order_relaxed); }
  // The user weight: configured, or set by the agent ("75%"). weight() is
  // this, ramped by slowstart after the server comes back UP.
  std::uint32_t uweight() const { return uweight_.load(std::memory_order_relaxed); }
  void set_uweight(std::uint32_t w) { uweight_.store(w, std::memory_order_relaxed); }
  // Recompute weight() from uweight() and the slowstart ramp at `now_ms`
  // (steady clock). True when weight() changed.
  bool update_weight(std::int64_t now_ms);

  // The health check's and the agent's own verdicts: the server is UP only
  // while both say so.
  bool check_ok() const { return check_ok_.load(std::memory_order_acquire); }
  void set_check_ok(bool ok) { check_ok_.store(ok, std::memory_order_release); }
  bool agent_ok() const { return agent_ok_.load(std::memory_order_acquire); }
  void set_agent_ok(bool ok) { agent_ok_.store(ok, std::memory_order_release); }

  // May the balancer pick this server for new sessions?
  bool usable() const {
    return up() && (admin() & (kAdminMaint | kAdminDrain | kAdminCheckDrain)) == 0 && weight() > 0;
  }
  // Up and not in maintenance: still serves its own queue (persistence).
  bool counted_up() const { return up() && !maint(); }

  // Connection slots (server maxconn). cur counts connected and connecting
  // sessions plus slots reserved for sessions being woken from a queue.
  std::uint32_t connections() const { return cur_.load(std::memory_order_seq_cst); }
  bool full() const {
    unsigned m = maxconn();
    return m != 0 && connections() >= m;
  }
  bool try_acquire();
  // Give a slot back without waking a waiter (Backend::release does both).
  void release_raw() { cur_.fetch_sub(1, std::memory_order_seq_cst); }

  // ---- passive health (`observe`): one cheap call from the sessions.
  void observe(Observed o) {
    if (def_.observe != config::ServerDef::Observe::None) observe_slow(o);
  }
  void observe_http_status(unsigned status) {
    if (def_.observe == config::ServerDef::Observe::Layer7)
      observe_slow(status >= 100 && (status < 500 || status == 501 || status == 505)
                       ? Observed::HttpOk
                       : Observed::HttpSts);
  }
  void set_observe_sink(ObserveSink* sink) { sink_.store(sink, std::memory_order_release); }
  void reset_observed_errors() {
    if (errors_.load(std::memory_order_relaxed) != 0) errors_.store(0, std::memory_order_relaxed);
  }
  std::uint32_t observed_errors() const { return errors_.load(std::memory_order_relaxed); }
  Counter& hana_failures() { return hanafail_; }  // hanafail: error-limit reached
  const Counter& hana_failures() const { return hanafail_; }

  // The sessions attached to this server, per thread (on-marked-down ...).
  ServerLinks& links() { return links_; }
  // Close every session attached to this server, on every thread, logged
  // with `cause` ('K' for the stats socket's `shutdown sessions server`).
  // Safe from any thread; returns before they are closed.
  void shutdown_sessions(TermCause cause = TermCause::Killed) { links_.shutdown_all(cause); }

  PendingQueue& queue() { return queue_; }
  SessionCounters& counters() { return counters_; }
  const SessionCounters& counters() const { return counters_; }

  // Health-check view for stats: written by the check's thread.
  struct CheckView {
    std::atomic<checks::CheckStatus> status{checks::CheckStatus::Unknown};
    std::atomic<std::int64_t> duration_ms{-1};
    std::atomic<unsigned> health{0};
    Counter failures{0};                         // chkfail
    Counter downs{0};                            // chkdown: UP -> DOWN transitions
    std::atomic<std::int64_t> last_change_s{0};  // lastchg: wall-clock seconds
    std::atomic<std::int64_t> downtime_s{0};     // total seconds spent DOWN so far
    std::atomic<int> code{0};                    // check_code: protocol code of the last result
    std::atomic<std::int64_t> last_run_s{0};     // wall seconds of the last result
    // Text of the last result ("Connection refused"), for last_chk.
    void set_info(const std::string& s) {
      std::lock_guard<std::mutex> g(info_mu);
      info = s;
    }
    std::string get_info() const {
      std::lock_guard<std::mutex> g(info_mu);
      return info;
    }
    mutable std::mutex info_mu;
    std::string info;
  };
  CheckView& check() { return check_; }
  const CheckView& check() const { return check_; }
  // Recent check durations (stats page sparkline).
  CheckHistory& check_history() { return history_; }
  const CheckHistory& check_history() const { return history_; }
  CheckView& agent() { return agent_; }
  const CheckView& agent() const { return agent_; }

  // State used only on the thread that runs this server's checks (the
  // health check and the agent check share one loop).
  struct CheckLocal {
    std::optional<checks::Health> agent_health;
    std::optional<checks::DurationWatch> duration;
    // Slowstart ramp start; -1: not ramping. Atomic: the stats thread and
    // the CLI read it (show servers state, throttle %) while checks set it.
    std::atomic<std::int64_t> warm_start_ms{-1};
  };
  CheckLocal& check_local() { return local_; }
  bool warming() const { return local_.warm_start_ms >= 0; }

 private:
  void observe_slow(Observed o);

  const config::ServerDef& def_;
  Backend& backend_;
  std::uint32_t index_;
  std::atomic<bool> up_{true};
  std::atomic<std::uint8_t> admin_{0};
  std::atomic<std::uint32_t> weight_;
  std::atomic<std::uint32_t> uweight_;
  std::atomic<bool> check_ok_{true};
  std::atomic<bool> agent_ok_{true};
  std::atomic<std::uint32_t> cur_{0};
  std::atomic<unsigned> maxconn_;
  std::atomic<const config::Address*> addr_;
  std::mutex addrs_mu_;
  std::deque<config::Address> addrs_;  // runtime addresses, kept alive
  mutable std::mutex overrides_mu_;
  checks::CheckOverrides health_overrides_;
  checks::CheckOverrides agent_overrides_;
  bool dynamic_ = false;
  std::atomic<bool> removed_{false};
  std::atomic<bool> health_enabled_{true};
  std::atomic<bool> agent_enabled_{true};
  PendingQueue queue_;
  SessionCounters counters_;
  CheckView check_;
  CheckView agent_;
  CheckHistory history_;
  CheckLocal local_;
  std::atomic<std::uint32_t> errors_{0};  // consecutive observed errors
  std::atomic<ObserveSink*> sink_{nullptr};
  Counter hanafail_{0};
  ServerLinks links_;
};

}  // namespace sluice::proxy
