#pragma once
// A backend's runtime object: its servers, the generation counter that
// tells per-thread balancers to rebuild, the backend queue, counters and
// the server state changes (with HAProxy's log lines).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "checks/check_types.h"
#include "checks/health.h"
#include "config/model.h"
#include "log/logger.h"
#include "proxy/counters.h"
#include "proxy/queue.h"
#include "proxy/server.h"
#include "util/result.h"

namespace sluice::httpmode {
struct ProxyHttp;  // http-request/-response rules, log-format (httpmode/rules.h)
}

namespace sluice::proxy {

using Millis = std::chrono::milliseconds;
using ServerPtr = std::unique_ptr<Server>;

class Backend {
 public:
  // `logger` (the proxy's log targets) may be null: no state-change logs.
  Backend(const config::Proxy& def, std::uint32_t index, const log::Logger* logger);
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const config::Proxy& def() const { return def_; }
  // Called (on the check's thread) with each server state change's log line
  // (email alerts). Set before the workers start.
  using StateHook = std::function<void(log::Level, const std::string&)>;
  void set_state_hook(StateHook h) { state_hook_ = std::move(h); }
  const std::string& name() const { return def_.name; }
  std::uint32_t index() const { return index_; }
  std::vector<ServerPtr>& servers() { return servers_; }
  const std::vector<ServerPtr>& servers() const { return servers_; }
  Server* find_server(const std::string& name) const;  // skips deleted servers
  // The servers as any thread may read them while `add server` runs on
  // another: a new server is counted only once it is built (the stats
  // thread reads through this).
  std::span<const ServerPtr> published_servers() const {
    return {servers_.data(), published_.load(std::memory_order_acquire)};
  }

  // Runtime API `add server`: the new server starts in maintenance. The
  // servers vector never reallocates (balancers on other threads index
  // into it), so a backend holds at most kMaxDynamicServers added ones.
  static constexpr std::size_t kMaxDynamicServers = 1024;
  Result<Server*> add_server(config::ServerDef def);
  const log::Logger* logger() const { return logger_; }

  // Bumped on every change of the usable server set (state, admin, weight).
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void bump_generation() {
    generation_.fetch_add(1, std::memory_order_acq_rel);
    note_state();
  }

  SessionCounters& counters() { return counters_; }
  const SessionCounters& counters() const { return counters_; }
  PendingQueue& queue() { return queue_; }

  std::optional<Millis> timeout_connect() const { return def_.timeouts.connect; }
  // "timeout queue", defaulting to "timeout connect" as the manual says.
  std::optional<Millis> timeout_queue() const {
    return def_.timeouts.queue ? def_.timeouts.queue : def_.timeouts.connect;
  }

  // ---- queues (any thread)
  enum class Enqueued { Yes, QueueFull };
  // Wait for a slot on `forced` (its maxqueue applies) or, when null, on any
  // server of the backend. May grant at once (the waiter is then posted).
  Enqueued enqueue(Pending& p, Server* forced, core::Loop& owner, QueueWaiter& waiter,
                   std::uint32_t ticket, std::int64_t now_ms);
  // Leave the queue (timeout, abort). Returns the server whose slot had
  // already been granted to us (the caller now owns that slot) or null.
  Server* cancel(Pending& p);
  // Give a slot back and hand it to the oldest waiter, if any.
  void release(Server& s);
  // Hand free slots of `s` (or every server) to waiters.
  void dispatch(Server& s);
  void dispatch_all();

  // ---- server state
  // Usable servers ("N active and M backup servers left/online", as
  // HAProxy counts them: drained or zero-weight servers are not).
  unsigned active_up() const;
  unsigned backup_up() const;
  bool any_usable() const;
  // A check result for `s` (called on the check's thread).
  void on_check_result(Server& s, const checks::CheckResult& r, checks::HealthChange change,
                       const checks::Health& h);
  // An agent check result for `s` (called on the check's thread): obeys the
  // words of the agent's line (checks/agent_reply.h). A failure to reach the
  // agent changes nothing: the health check judges connectivity.
  void on_agent_result(Server& s, const checks::CheckResult& r);
  // Slowstart: move `s`'s weight along its ramp (check's thread). True
  // while the ramp goes on.
  bool warmup_tick(Server& s);
  // Administrative changes (agent words; the runtime API later).
  void set_server_drain(Server& s, bool on);
  void set_server_maint(Server& s, bool on);
  void set_server_uweight(Server& s, std::uint32_t w);
  // `set server ... state ready|drain|maint` (same as the stats page's
  // actions): the new bit is set before the old one is cleared, so a server
  // going from drain to maint (or back) is never ready in between.
  enum class AdminState { Ready, Drain, Maint };
  void set_server_admin(Server& s, AdminState st);
  // Apply an UP/DOWN transition: state, generation, queues, log lines.
  // `r` is the check that caused it (null for admin changes); `cause`, when
  // no check did, is the log line's reason ("changed from CLI").
  void set_server_up(Server& s, const checks::CheckResult* r, std::string_view cause = {});
  void set_server_down(Server& s, const checks::CheckResult* r, std::string_view cause = {});
  // Runtime API `set server ... health up|stopping|down` and `agent up|down`:
  // the server takes the state at once, whatever the other check says, as
  // if this check had decided it; later checks move it on from there. The
  // caller sets the check's own rise/fall counter (ServerChecks::force).
  // Stopping is UP but out of load balancing (haproxy's NOLB).
  enum class Forced : std::uint8_t { Up, Stopping, Down };
  void force_state(Server& s, Forced f, bool agent);
  // on-marked-up shutdown-backup-sessions: close every backup server's
  // sessions (when `s` is an active server with a weight).
  void shutdown_backup_sessions(const Server& s);

  // The messages HAProxy logs on transitions (exposed for tests).
  std::string down_message(const Server& s, const checks::CheckResult* r, unsigned requeued,
                           std::string_view cause = {}) const;
  // "is stopping" instead of "is UP" when `s` is UP but stopping (NOLB) by `cause`.
  std::string up_message(const Server& s, const checks::CheckResult* r, unsigned requeued,
                         std::string_view cause = {}) const;
  std::string no_server_message() const;
  // The value of the X-Haproxy-Server-State header (`http-check
  // send-state`): "UP 2/3; address=...; port=...; name=be/srv; node=...;
  // weight=w/total; scur=s/total; qcur=q", as haproxy writes it.
  std::string state_header(const Server& s, const checks::Health& h, const std::string& node) const;
  std::string duration_alert_message(const Server& s, bool crossed) const;

  // HTTP rules of this proxy; null when it has none.
  const httpmode::ProxyHttp* http() const { return http_; }
  void set_http(const httpmode::ProxyHttp* h) { http_ = h; }
  // The backend's own UP/DOWN history for stats (chkdown, lastchg,
  // downtime): note_state() runs after every server state change.
  void note_state();
  bool state_up() const { return state_up_.load(std::memory_order_relaxed); }
  std::int64_t state_change_s() const { return state_change_s_.load(std::memory_order_relaxed); }
  std::int64_t state_downtime_s() const {
    return state_downtime_s_.load(std::memory_order_relaxed);
  }
  std::uint64_t state_downs() const { return state_downs_.load(std::memory_order_relaxed); }

  // Does this backend redispatch on every retry when it has several active
  // servers (round-robin kind, HAProxy's rule)?
  bool rr_kind() const;

 private:
  unsigned redistribute(Server& s);
  Pending* pop_for(Server& s, bool from_backend);
  void log(log::Level lvl, const std::string& line) const;
  void log_state(log::Level lvl, const std::string& line) const;  // and state_hook_

  const config::Proxy& def_;
  StateHook state_hook_;
  std::uint32_t index_;
  const log::Logger* logger_;
  std::vector<ServerPtr> servers_;
  std::atomic<std::size_t> published_{0};  // servers_.size() for readers on other threads
  std::atomic<bool> state_up_{true};
  std::atomic<std::int64_t> state_change_s_{0};
  std::atomic<std::int64_t> state_downtime_s_{0};
  Counter state_downs_{0};
  std::deque<config::ServerDef> dynamic_defs_;  // owned definitions of added servers
  std::mutex add_mu_;
  std::atomic<std::uint64_t> generation_{1};
  PendingQueue queue_;
  SessionCounters counters_;
  const httpmode::ProxyHttp* http_ = nullptr;
};

using BackendPtr = std::unique_ptr<Backend>;

}  // namespace sluice::proxy
