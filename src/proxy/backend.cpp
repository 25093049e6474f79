#include "proxy/backend.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "checks/agent_reply.h"

namespace sluice::proxy {

Backend::Backend(const config::Proxy& def, std::uint32_t index, const log::Logger* logger)
    : def_(def), index_(index), logger_(logger) {
  state_change_s_.store(static_cast<std::int64_t>(std::time(nullptr)));
  servers_.reserve(def.servers.size() + kMaxDynamicServers);
  for (std::size_t i = 0; i < def.servers.size(); ++i)
    servers_.push_back(
        std::make_unique<Server>(def.servers[i], *this, static_cast<std::uint32_t>(i)));
  published_.store(servers_.size(), std::memory_order_release);
  if (def.check_duration_alert)
    for (auto& s : servers_)
      s->check_local().duration.emplace(def.check_duration_alert->threshold.count(),
                                        def.check_duration_alert->window);
}

Server* Backend::find_server(const std::string& name) const {
  for (const auto& s : servers_)
    if (s->name() == name && !s->removed()) return s.get();
  return nullptr;
}

void Backend::note_state() {
  const bool now = any_usable();
  if (state_up_.exchange(now) == now) return;
  const auto t = static_cast<std::int64_t>(std::time(nullptr));
  const std::int64_t since = state_change_s_.exchange(t);
  if (now)
    state_downtime_s_.fetch_add(std::max<std::int64_t>(0, t - since));
  else
    state_downs_.fetch_add(1);
}

Result<Server*> Backend::add_server(config::ServerDef def) {
  std::lock_guard<std::mutex> g(add_mu_);
  if (find_server(def.name) != nullptr)
    return make_error("Already exists a server with the same name in backend.");
  if (dynamic_defs_.size() >= kMaxDynamicServers)
    return make_error("Too many servers added to this backend.");
  int id = def.id;
  if (id == 0) {
    for (const auto& s : servers_)
      if (!s->removed()) id = std::max(id, s->def().id);
    ++id;
  } else {
    for (const auto& s : servers_)
      if (!s->removed() && s->def().id == id) return make_error("Server id is already used.");
  }
  def.id = id;
  def.disabled = true;  // HAProxy starts an added server in maintenance
  dynamic_defs_.push_back(std::move(def));
  auto s = std::make_unique<Server>(dynamic_defs_.back(), *this,
                                    static_cast<std::uint32_t>(servers_.size()));
  s->set_dynamic();
  if (def_.check_duration_alert)
    s->check_local().duration.emplace(def_.check_duration_alert->threshold.count(),
                                      def_.check_duration_alert->window);
  Server* raw = s.get();
  servers_.push_back(std::move(s));  // capacity reserved: no reallocation
  published_.store(servers_.size(), std::memory_order_release);
  bump_generation();
  return raw;
}

bool Backend::rr_kind() const {
  using A = config::BalanceAlgo;
  A a = def_.balance.algo;
  return a == A::RoundRobin || a == A::StaticRr || a == A::Random;
}

// ---------------------------------------------------------------- queues

Backend::Enqueued Backend::enqueue(Pending& p, Server* forced, core::Loop& owner,
                                   QueueWaiter& waiter, std::uint32_t ticket, std::int64_t now_ms) {
  PendingQueue& q = forced != nullptr ? forced->queue() : queue_;
  {
    std::lock_guard lock(q.mutex());
    if (forced != nullptr && forced->def().maxqueue && q.size() >= *forced->def().maxqueue)
      return Enqueued::QueueFull;
    p.granted = nullptr;
    p.owner = &owner;
    p.waiter = &waiter;
    p.ticket = ticket;
    p.enqueued_ms = now_ms;
    q.push_back_locked(p);
    p.home.store(&q, std::memory_order_release);
    p.position = q.size();
  }
  // A slot may have been freed between the caller's failed pick and the
  // push: dispatch now so no waiter sleeps beside a free slot.
  if (forced != nullptr)
    dispatch(*forced);
  else
    dispatch_all();
  return Enqueued::Yes;
}

Server* Backend::cancel(Pending& p) {
  PendingQueue* q = p.home.load(std::memory_order_acquire);
  while (q != nullptr) {
    std::lock_guard lock(q->mutex());
    PendingQueue* now = p.home.load(std::memory_order_acquire);
    if (now != q) {  // moved while we waited for the lock
      q = now;
      continue;
    }
    Server* g = nullptr;
    if (p.queue != nullptr)
      q->unlink_locked(p);
    else
      g = p.granted;
    p.granted = nullptr;
    p.home.store(nullptr, std::memory_order_release);
    return g;
  }
  return nullptr;
}

Pending* Backend::pop_for(Server& s, bool from_backend) {
  PendingQueue& q = from_backend ? queue_ : s.queue();
  std::lock_guard lock(q.mutex());
  Pending* p = q.pop_front_locked();
  if (p != nullptr) {
    p->granted = &s;
    // Copy what the wake-up needs while the entry is still ours to read.
    core::Loop* owner = p->owner;
    QueueWaiter* w = p->waiter;
    std::uint32_t t = p->ticket;
    owner->post([w, t] { w->on_slot_granted(t); });
  }
  return p;
}

void Backend::dispatch(Server& s) {
  for (;;) {
    bool own = s.counted_up() && s.queue().size() > 0;
    bool shared = s.usable() && (!s.backup() || active_up() == 0) && queue_.size() > 0;
    if (!own && !shared) return;
    if (!s.try_acquire()) return;
    Pending* p = own ? pop_for(s, false) : nullptr;
    if (p == nullptr && shared) p = pop_for(s, true);
    if (p == nullptr) {
      // Raced with another dispatcher or a cancel: give the slot back and
      // look again (a waiter may have arrived meanwhile).
      s.release_raw();
      if (s.queue().size() == 0 && queue_.size() == 0) return;
    }
  }
}

void Backend::dispatch_all() {
  for (auto& s : servers_) dispatch(*s);
}

void Backend::release(Server& s) {
  s.release_raw();
  if (s.queue().size() > 0 || queue_.size() > 0) dispatch(s);
}

unsigned Backend::redistribute(Server& s) {
  // Lock order: a server queue before the backend queue (only here).
  std::lock_guard lock_s(s.queue().mutex());
  std::lock_guard lock_b(queue_.mutex());
  unsigned moved = 0;
  while (Pending* p = s.queue().pop_front_locked()) {
    queue_.push_back_locked(*p);
    p->home.store(&queue_, std::memory_order_release);
    ++moved;
  }
  return moved;
}

// ---------------------------------------------------------------- state

unsigned Backend::active_up() const {
  unsigned n = 0;
  for (const auto& s : servers_)
    if (!s->backup() && s->usable()) ++n;
  return n;
}

unsigned Backend::backup_up() const {
  unsigned n = 0;
  for (const auto& s : servers_)
    if (s->backup() && s->usable()) ++n;
  return n;
}

bool Backend::any_usable() const {
  for (const auto& s : servers_)
    if (s->usable()) return true;
  return false;
}

void Backend::log(log::Level lvl, const std::string& line) const {
  if (logger_ != nullptr) logger_->send(lvl, line);
}

void Backend::log_state(log::Level lvl, const std::string& line) const {
  log(lvl, line);
  if (state_hook_) state_hook_(lvl, line);
}

namespace {
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void Backend::on_check_result(Server& s, const checks::CheckResult& r, checks::HealthChange change,
                              const checks::Health& h) {
  auto& cv = s.check();
  if (auto& dw = s.check_local().duration; dw && r.duration_ms >= 0) {
    auto ev = dw->add(r.duration_ms);
    if (ev == checks::DurationWatch::Event::Crossed)
      log(log::Level::Warning, duration_alert_message(s, true));
    else if (ev == checks::DurationWatch::Event::Recovered)
      log(log::Level::Notice, duration_alert_message(s, false));
  }
  cv.status.store(r.status, std::memory_order_relaxed);
  if (r.duration_ms >= 0) {
    cv.duration_ms.store(r.duration_ms, std::memory_order_relaxed);
    s.check_history().push(r.duration_ms);
  }
  cv.health.store(h.health(), std::memory_order_relaxed);
  if (r.passed()) s.reset_observed_errors();
  cv.code.store(r.code, std::memory_order_relaxed);
  cv.last_run_s.store(static_cast<std::int64_t>(std::time(nullptr)), std::memory_order_relaxed);
  cv.set_info(r.info);
  if (!r.passed() && s.up()) cv.failures.fetch_add(1, std::memory_order_relaxed);
  // http-check disable-on-404: a 404 keeps the server up but takes it out
  // of load balancing (drain) until a plain pass.
  if (r.passed()) {
    if (s.change_admin(kAdminCheckDrain, r.conditional())) bump_generation();
  }
  if (change == checks::HealthChange::WentDown) {
    s.set_check_ok(false);
    set_server_down(s, &r);
  }
  if (change == checks::HealthChange::WentUp) {
    s.set_check_ok(true);
    if (s.agent_ok()) set_server_up(s, &r);
  }
}

void Backend::on_agent_result(Server& s, const checks::CheckResult& r) {
  auto& av = s.agent();
  av.status.store(r.status, std::memory_order_relaxed);
  av.duration_ms.store(r.duration_ms, std::memory_order_relaxed);
  av.code.store(r.code, std::memory_order_relaxed);
  av.set_info(r.info);
  if (!r.passed()) return;  // agent unreachable or silent: not an error
  checks::AgentReply reply = checks::parse_agent_reply(r.info);
  if (reply.admin) {
    switch (*reply.admin) {
      case checks::AgentReply::Admin::Ready:
        set_server_maint(s, false);
        set_server_drain(s, false);
        break;
      case checks::AgentReply::Admin::Drain:
        set_server_drain(s, true);
        break;
      case checks::AgentReply::Admin::Maint:
        set_server_maint(s, true);
        break;
    }
  }
  if (reply.maxconn && *reply.maxconn != s.maxconn()) {
    // "maxconn:N": the server's new limit; a higher one may admit waiters.
    s.set_maxconn(*reply.maxconn);
    dispatch(s);
  }
  if (reply.weight_percent) {
    std::uint64_t w = static_cast<std::uint64_t>(s.def().weight) * *reply.weight_percent / 100;
    set_server_uweight(s, static_cast<std::uint32_t>(std::min<std::uint64_t>(w, 256)));
  }
  if (!reply.health) return;
  auto& ah = s.check_local().agent_health;
  if (!ah) ah.emplace(s.def().rise, s.def().fall);
  bool up = *reply.health == checks::AgentReply::Health::Up;
  checks::CheckResult res;
  res.status = up ? checks::CheckStatus::L7Ok : checks::CheckStatus::L7Sts;
  res.duration_ms = r.duration_ms;
  res.report_code = true;
  res.info = "via agent : ";
  res.info += checks::agent_health_word(*reply.health);
  if (!reply.description.empty()) res.info += " (" + reply.description + ")";
  av.status.store(res.status, std::memory_order_relaxed);
  checks::HealthChange ch = ah->on_result(up);
  av.health.store(ah->health(), std::memory_order_relaxed);
  if (!up && s.up()) av.failures.fetch_add(1, std::memory_order_relaxed);
  if (ch == checks::HealthChange::WentDown) {
    s.set_agent_ok(false);
    set_server_down(s, &res);
  } else if (ch == checks::HealthChange::WentUp) {
    s.set_agent_ok(true);
    if (s.check_ok()) set_server_up(s, &res);
  }
}

bool Backend::warmup_tick(Server& s) {
  if (s.update_weight(steady_ms())) bump_generation();
  return s.warming();
}

void Backend::set_server_uweight(Server& s, std::uint32_t w) {
  if (w == s.uweight()) return;
  s.set_uweight(w);
  if (s.update_weight(steady_ms())) bump_generation();
}

void Backend::set_server_drain(Server& s, bool on) {
  if (!s.change_admin(kAdminDrain, on)) return;
  bump_generation();
  // In maintenance the drain bit changes nothing visible: no log line (haproxy's).
  if (s.maint()) return;
  std::string who =
      std::string(s.backup() ? "Backup Server " : "Server ") + name() + "/" + s.name();
  if (on) {
    unsigned act = active_up(), bck = backup_up();
    std::string counts = std::to_string(act) + " active and " + std::to_string(bck);
    if (s.up())
      log(log::Level::Notice, who + " enters drain state. " + counts +
                                  " backup servers online. 0 sessions requeued, " +
                                  std::to_string(queue_.size()) + " total in queue.");
    else
      log(log::Level::Notice, who + " enters drain state. " + counts + " backup servers left. " +
                                  std::to_string(s.connections()) +
                                  " sessions active, 0 requeued, " +
                                  std::to_string(s.queue().size()) + " remaining in queue.");
    if (!any_usable()) log(log::Level::Emerg, no_server_message());
  } else {
    log(log::Level::Notice, who + (s.up() ? " is UP" : " is DOWN") + " (leaving forced drain).");
    dispatch(s);
  }
}

void Backend::set_server_admin(Server& s, AdminState st) {
  switch (st) {
    case AdminState::Ready:
      set_server_drain(s, false);
      set_server_maint(s, false);
      break;
    case AdminState::Drain:
      set_server_drain(s, true);
      set_server_maint(s, false);
      break;
    case AdminState::Maint:
      set_server_maint(s, true);
      set_server_drain(s, false);
      break;
  }
}

void Backend::set_server_maint(Server& s, bool on) {
  if (!s.change_admin(kAdminMaint, on)) return;
  s.check().last_change_s.store(static_cast<std::int64_t>(std::time(nullptr)),
                                std::memory_order_relaxed);
  bump_generation();
  std::string who =
      std::string(s.backup() ? "Backup Server " : "Server ") + name() + "/" + s.name();
  if (on) {
    unsigned requeued = redistribute(s);
    unsigned act = active_up(), bck = backup_up();
    if (s.up())
      log(log::Level::Notice, who + " is going DOWN for maintenance. " + std::to_string(act) +
                                  " active and " + std::to_string(bck) + " backup servers left. " +
                                  std::to_string(s.connections()) + " sessions active, " +
                                  std::to_string(requeued) + " requeued, " +
                                  std::to_string(s.queue().size()) + " remaining in queue.");
    else
      log(log::Level::Notice, who + " was DOWN and now enters maintenance.");
    if (act == 0 && bck == 0) log(log::Level::Emerg, no_server_message());
    if (s.def().shutdown_on_down) s.shutdown_sessions(TermCause::Down);
    if (requeued > 0) dispatch_all();
  } else {
    if (s.admin() & kAdminDrain) {
      log(log::Level::Notice, who + " is UP/DRAIN (leaving forced maintenance).");
      log(log::Level::Notice, who + " remains in forced drain mode.");
    } else {
      log(log::Level::Notice, who + " is UP/READY (leaving forced maintenance).");
    }
    dispatch(s);
    if (s.up() && s.def().shutdown_backups_on_up) shutdown_backup_sessions(s);
  }
}

std::string Backend::duration_alert_message(const Server& s, bool crossed) const {
  const auto& dw = const_cast<Server&>(s).check_local().duration;
  std::string m = std::string(s.backup() ? "Backup Server " : "Server ") + name() + "/" + s.name();
  m += " check duration median " + std::to_string(dw ? dw->median() : -1) + "ms over the last " +
       std::to_string(dw ? dw->window() : 0) + " checks is ";
  m += crossed ? "above" : "back under";
  m += " the " + std::to_string(dw ? dw->threshold_ms() : 0) + "ms alert threshold.";
  return m;
}

namespace {
std::int64_t wall_seconds() {
  return static_cast<std::int64_t>(std::time(nullptr));
}
}  // namespace

std::string Backend::down_message(const Server& s, const checks::CheckResult* r, unsigned requeued,
                                  std::string_view cause) const {
  std::string m = s.backup() ? "Backup Server " : "Server ";
  m += name() + "/" + s.name() + " is DOWN";
  if (r == nullptr && !cause.empty()) {
    m += ", ";
    m += cause;
  }
  if (r != nullptr) {
    m += ", reason: ";
    m += checks::status_info(r->status).reason;
    // As haproxy: every layer-7 data status (L7OK, L7OKC, L7STS) shows its code, even 0.
    if (r->report_code || checks::status_info(r->status).has_code)
      m += ", code: " + std::to_string(r->code);
    if (!r->info.empty()) m += ", info: \"" + r->info + "\"";
    if (r->duration_ms >= 0) m += ", check duration: " + std::to_string(r->duration_ms) + "ms";
  }
  unsigned act = active_up(), bck = backup_up();
  m += ". " + std::to_string(act) + " active and " + std::to_string(bck) + " backup servers left.";
  if (act == 0 && bck > 0) m += " Running on backup.";
  unsigned active = r != nullptr && r->active_sessions >= 0
                        ? static_cast<unsigned>(r->active_sessions)
                        : s.connections();
  m += " " + std::to_string(active) + " sessions active, " + std::to_string(requeued) +
       " requeued, " + std::to_string(const_cast<Server&>(s).queue().size()) +
       " remaining in queue.";
  return m;
}

std::string Backend::up_message(const Server& s, const checks::CheckResult* r, unsigned requeued,
                                std::string_view cause) const {
  std::string m = s.backup() ? "Backup Server " : "Server ";
  m += name() + "/" + s.name();
  if (r == nullptr && !cause.empty()) {
    m += (s.admin() & kAdminCheckDrain) ? " is stopping, " : " is UP, ";
    m += cause;
  } else {
    m += " is UP";
  }
  if (r != nullptr) {
    m += ", reason: ";
    m += checks::status_info(r->status).reason;
    // As haproxy: every layer-7 data status (L7OK, L7OKC, L7STS) shows its code, even 0.
    if (r->report_code || checks::status_info(r->status).has_code)
      m += ", code: " + std::to_string(r->code);
    if (!r->info.empty()) m += ", info: \"" + r->info + "\"";
    m += ", check duration: " + std::to_string(r->duration_ms) + "ms";
  }
  unsigned act = active_up(), bck = backup_up();
  m +=
      ". " + std::to_string(act) + " active and " + std::to_string(bck) + " backup servers online.";
  if (act == 0 && bck > 0) m += " Running on backup.";
  m += " " + std::to_string(requeued) + " sessions requeued, " +
       std::to_string(const_cast<Backend*>(this)->queue_.size()) + " total in queue.";
  return m;
}

std::string Backend::state_header(const Server& s, const checks::Health& h,
                                  const std::string& node) const {
  const unsigned rise = h.rise(), fall = h.fall(), health = h.health();
  std::string m;
  if (s.up()) {
    // NOLB: the check's disable-on-404 drain (haproxy's STOPPING state).
    const char* word = (s.admin() & kAdminCheckDrain) ? "NOLB" : "UP";
    m = word;
    if (health != rise + fall - 1)
      m += " " + std::to_string(health - rise + 1) + "/" + std::to_string(fall);
  } else {
    m = "DOWN";
    if (health != 0) m += " " + std::to_string(health) + "/" + std::to_string(rise);
  }
  const config::Address& a = s.def().addr;
  char host[INET6_ADDRSTRLEN] = "unix";
  std::string port;
  if (a.family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a.storage).sin_addr, host,
                sizeof host);
    port = std::to_string(a.port());
  } else if (a.family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a.storage).sin6_addr, host,
                sizeof host);
    port = std::to_string(a.port());
  }
  // The farm's weight counts usable servers: the active ones, or the
  // backups when no active server is left.
  std::uint64_t total = 0;
  for (const auto& o : servers_)
    if (!o->backup() && o->usable()) total += o->weight();
  if (total == 0)
    for (const auto& o : servers_)
      if (o->backup() && o->usable()) total += o->weight();
  std::uint32_t queued = const_cast<Backend*>(this)->queue_.size();
  std::uint32_t be_cur = counters_.cur.load(std::memory_order_relaxed);
  m += "; address=" + std::string(host) + "; port=" + port + "; name=" + name() + "/" + s.name() +
       "; node=" + node + "; weight=" + std::to_string(s.weight()) + "/" + std::to_string(total) +
       "; scur=" + std::to_string(s.counters().cur.load(std::memory_order_relaxed)) + "/" +
       std::to_string(be_cur >= queued ? be_cur - queued : 0) +
       "; qcur=" + std::to_string(const_cast<Server&>(s).queue().size());
  if (s.warming()) {
    // Slowstart ramp, in whole seconds as haproxy counts it.
    std::int64_t ss = (s.def().slowstart.count() + 999) / 1000;
    std::int64_t el =
        (steady_ms() - const_cast<Server&>(s).check_local().warm_start_ms.load(std::memory_order_relaxed)) /
        1000;
    if (ss > 0 && el >= 0 && el < ss)
      m += "; throttle=" + std::to_string(std::max<std::int64_t>(1, 100 * el / ss)) + "%";
  }
  return m;
}

std::string Backend::no_server_message() const {
  return std::string(def_.cap == config::ProxyCap::Listen ? "proxy " : "backend ") + name() +
         " has no server available!";
}

void Backend::set_server_down(Server& s, const checks::CheckResult* r, std::string_view cause) {
  if (!s.up()) return;
  s.set_up(false);
  s.check_local().warm_start_ms = -1;
  s.update_weight(steady_ms());
  bump_generation();
  auto& cv = s.check();
  cv.downs.fetch_add(1, std::memory_order_relaxed);
  cv.last_change_s.store(wall_seconds(), std::memory_order_relaxed);
  unsigned requeued = redistribute(s);
  log_state(log::Level::Alert, down_message(s, r, requeued, cause));
  if (s.def().shutdown_on_down) s.shutdown_sessions(TermCause::Down);
  if (active_up() == 0 && backup_up() == 0) log(log::Level::Emerg, no_server_message());
  // Waiters moved to the backend queue may fit on another server.
  if (requeued > 0) dispatch_all();
}

void Backend::set_server_up(Server& s, const checks::CheckResult* r, std::string_view cause) {
  if (s.up()) return;
  s.set_up(true);
  // Slowstart: a server seen failed comes back at a small weight that
  // grows to its full weight (ServerChecks ticks the ramp).
  if (s.def().slowstart.count() > 0) s.check_local().warm_start_ms = steady_ms();
  s.update_weight(steady_ms());
  bump_generation();
  auto& cv = s.check();
  std::int64_t now = wall_seconds();
  std::int64_t since = cv.last_change_s.exchange(now, std::memory_order_relaxed);
  cv.downtime_s.fetch_add(now - since, std::memory_order_relaxed);
  std::uint32_t before = queue_.size();
  dispatch(s);
  std::uint32_t after = queue_.size();
  log_state(log::Level::Notice, up_message(s, r, before > after ? before - after : 0, cause));
  if (s.def().shutdown_backups_on_up) shutdown_backup_sessions(s);
}

void Backend::force_state(Server& s, Forced f, bool agent) {
  static constexpr std::string_view kCause = "changed from CLI";
  if (agent) {
    s.set_agent_ok(f != Forced::Down);
  } else {
    s.set_check_ok(f != Forced::Down);
    // Without a health check the stats' counter is the only one (a checked
    // server's is set by its CheckRun, ServerChecks::force).
    if (!s.def().check)
      s.check().health.store(
          f == Forced::Down ? 0 : std::max(1U, s.def().rise) + std::max(1U, s.def().fall) - 1,
          std::memory_order_relaxed);
  }
  const bool stopping_changed = s.change_admin(kAdminCheckDrain, f == Forced::Stopping);
  if (f == Forced::Down) {
    if (s.up())
      set_server_down(s, nullptr, kCause);
    else if (stopping_changed)
      bump_generation();
    return;
  }
  if (!s.up()) {
    set_server_up(s, nullptr, kCause);
    return;
  }
  if (!stopping_changed) return;
  // UP <-> stopping: the server leaves or rejoins load balancing.
  bump_generation();
  if (f == Forced::Up) dispatch(s);
  log_state(log::Level::Notice, up_message(s, nullptr, 0, kCause));
}

void Backend::shutdown_backup_sessions(const Server& s) {
  // Only an active server that takes traffic pulls it back from the backups.
  if (s.backup() || s.uweight() == 0) return;
  for (auto& b : servers_)
    if (b->backup()) b->shutdown_sessions(TermCause::Up);
}

}  // namespace sluice::proxy
