#include <sys/resource.h>
#include <unistd.h>

#include <latch>
#include <map>
#include <thread>

#include "core/listener.h"
#include "httpmode/rules.h"
#include "runtime/engine_impl.h"
#include "runtime/listen_inventory.h"
#include "runtime/server_state.h"
#include "stats/offload.h"

namespace sluice::runtime {

Result<std::unique_ptr<Engine>> Engine::create(const config::Model& model, log::Logger& logger,
                                               ListenerSource source) {
  auto engine = std::make_unique<EngineImpl>(model, logger, std::move(source));
  Result<void> r = engine->build();
  if (!r) return make_error(r.error());
  return std::unique_ptr<Engine>(std::move(engine));
}

EngineImpl::EngineImpl(const config::Model& model, log::Logger& logger, ListenerSource source)
    : model_(model), logger_(logger), source_(std::move(source)) {}

EngineImpl::~EngineImpl() {
  if (started_) {
    hard_stop();
    wait();
  }
  cli_.reset();
  workers_.clear();
  // No stats job may still read the proxies destroyed with this engine
  // (their requesters are gone with the workers and the CLI).
  stats::Offload::shared().drain();
  pool_.reset();
  for (auto& b : bound_)
    for (int fd : b.fds)
      if (fd >= 0) ::close(fd);
  handoff_reader_.reset();
  if (handoff_in_ >= 0) ::close(handoff_in_);
  if (handoff_out_ >= 0) ::close(handoff_out_);
}

bool EngineImpl::take_handoff_channel(int fd) {
  // The newest offer wins: a process that offered one earlier and then
  // failed to start is not the one -sf will come from.
  if (stopping()) return false;
  const int old = handoff_out_.exchange(fd, std::memory_order_acq_rel);
  if (old >= 0) ::close(old);
  handoff_broken_.store(false, std::memory_order_release);
  return true;
}

namespace {
unsigned default_maxconn() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 4096;
  // Two descriptors per proxied connection, and a few for listeners, logs
  // and checks.
  rlim_t usable = rl.rlim_cur > 64 ? rl.rlim_cur - 64 : rl.rlim_cur / 2;
  return static_cast<unsigned>(std::max<rlim_t>(1, usable / 2));
}

unsigned thread_count(const config::Global& g) {
  return g.nbthread != 0 ? g.nbthread : std::max(1U, std::thread::hardware_concurrency());
}

unsigned frontend_maxconn(const config::Proxy& p, unsigned global_maxconn) {
  return p.maxconn != 0 ? p.maxconn : global_maxconn;
}

core::ListenOptions listen_options(const config::Proxy& p, const config::Bind& b,
                                   unsigned fe_maxconn) {
  core::ListenOptions o;
  if (b.backlog)
    o.backlog = static_cast<int>(*b.backlog);
  else if (p.backlog)
    o.backlog = static_cast<int>(*p.backlog);
  else
    o.backlog = static_cast<int>(std::min(fe_maxconn, 65535U));
  o.v6only = b.v6only;
  o.transparent = b.transparent;
  o.interface = b.interface;
  o.unix_mode = b.unix_mode;
  o.unix_uid = b.unix_uid;
  o.unix_gid = b.unix_gid;
  return o;
}
}  // namespace

std::vector<ListenNeed> Engine::listen_plan(const config::Model& model) {
  const unsigned nthreads = thread_count(model.global);
  const unsigned maxconn = model.global.maxconn != 0 ? model.global.maxconn : default_maxconn();
  std::vector<ListenNeed> plan;
  for (const auto& p : model.proxies) {
    if (!p.has_frontend() || p.disabled) continue;
    for (const auto& b : p.binds) {
      core::ListenOptions o = listen_options(p, b, frontend_maxconn(p, maxconn));
      for (const auto& a : b.addrs) {
        o.reuseport = !a.is_unix();
        plan.push_back(ListenNeed{a, o, a.is_unix() ? 1U : nthreads});
      }
    }
  }
  return plan;
}

Result<void> EngineImpl::build() {
  const config::Global& g = model_.global;
  nthreads_ = thread_count(g);
  hard_maxconn_ = g.maxconn != 0 ? g.maxconn : default_maxconn();
  maxconn_.store(hard_maxconn_);

  // Loggers per proxy (their resolved targets).
  proxy_loggers_.resize(model_.proxies.size());
  for (std::size_t i = 0; i < model_.proxies.size(); ++i) {
    const auto& p = model_.proxies[i];
    if (!p.logs.empty())
      proxy_loggers_[i] = std::make_unique<log::Logger>(p.logs, g.log_tag, g.log_send_hostname);
  }

  // Backends first: frontends route to them.
  std::map<std::string, proxy::Backend*> by_name;
  for (std::size_t i = 0; i < model_.proxies.size(); ++i) {
    const auto& p = model_.proxies[i];
    if (!p.has_backend() || p.disabled) continue;
    auto be = std::make_unique<proxy::Backend>(p, static_cast<std::uint32_t>(backends_.size()),
                                               proxy_loggers_[i].get());
    by_name[p.name] = be.get();
    backends_.push_back(std::move(be));
  }
  for (std::size_t i = 0; i < model_.proxies.size(); ++i) {
    const auto& p = model_.proxies[i];
    if (!p.has_frontend() || p.disabled) continue;
    unsigned fe_max = frontend_maxconn(p, hard_maxconn_);
    auto fe = std::make_unique<proxy::Frontend>(p, static_cast<std::uint32_t>(frontends_.size()),
                                                proxy_loggers_[i].get(), fe_max);
    for (const auto& ub : p.use_backends) {
      auto it = by_name.find(ub.backend);
      if (it == by_name.end())
        return make_error(ub.loc.file + ":" + std::to_string(ub.loc.line) + ": proxy '" + p.name +
                          "': unable to find required use_backend: '" + ub.backend + "'");
      proxy::Route route{it->second, &ub, nullptr};
      if (ub.cond) {
        acl::CompileOptions co;
        co.model = &model_;
        auto c = acl::compile(p, *ub.cond, co);
        if (!c)
          return make_error(ub.loc.file + ":" + std::to_string(ub.loc.line) + ": proxy '" + p.name +
                            "': use_backend: " + c.error());
        route.cond = std::make_unique<acl::CompiledCondition>(std::move(c.value()));
      }
      fe->routes().push_back(std::move(route));
    }
    if (!p.default_backend.empty()) {
      auto it = by_name.find(p.default_backend);
      if (it == by_name.end())
        return make_error(p.loc.file + ":" + std::to_string(p.loc.line) + ": proxy '" + p.name +
                          "': unable to find required default_backend: '" + p.default_backend +
                          "'");
      fe->set_default_backend(it->second);
    } else if (p.has_backend()) {
      fe->set_default_backend(by_name[p.name]);
    }
    frontends_.push_back(std::move(fe));
  }
  if (auto r = httpmode::attach_proxy_http(model_, frontends_, backends_, http_rules_); !r)
    return make_error(r.error());
  for (auto& fe : frontends_) directory_.frontends.push_back(fe.get());
  for (auto& be : backends_) directory_.backends.push_back(be.get());
  for (auto& fe : frontends_) fe->set_directory(&directory_);

  // Listeners: bind now so errors surface before daemonising.
  for (auto& fe : frontends_) {
    const auto& p = fe->def();
    for (const auto& b : p.binds) {
      core::ListenOptions o = listen_options(p, b, fe->maxconn());
      for (const auto& a : b.addrs) {
        BoundAddress ba;
        ba.frontend = fe.get();
        ba.shared = a.is_unix();
        unsigned n = ba.shared ? 1 : nthreads_;
        o.reuseport = !ba.shared;
        ba.key = ListenInventory::key(a, o);
        if (source_) {
          Result<std::vector<int>> fds = source_(a, o, n);
          if (!fds) return make_error("Starting proxy " + p.name + ": " + fds.error());
          std::vector<int>& got = *fds;
          for (std::size_t i = 0; i < got.size(); ++i) {
            if (i < n) {
              ba.fds.push_back(got[i]);
              continue;
            }
            // A socket beyond one per thread: every thread accepts from it.
            BoundAddress extra;
            extra.frontend = fe.get();
            extra.shared = true;
            extra.key = ba.key;
            extra.fds.push_back(got[i]);
            bound_.push_back(std::move(extra));
          }
          if (ba.fds.size() < n) {
            bound_.push_back(std::move(ba));  // closed by our destructor
            return make_error("Starting proxy " + p.name + ": missing listening sockets for " +
                              (a.text.empty() ? std::string("an address") : a.text));
          }
          bound_.push_back(std::move(ba));
          continue;
        }
        for (unsigned t = 0; t < n; ++t) {
          Result<int> fd = core::open_listener(a, o);
          if (!fd) {
            bound_.push_back(std::move(ba));  // closed by our destructor
            return make_error("Starting proxy " + p.name + ": " + fd.error());
          }
          ba.fds.push_back(*fd);
        }
        bound_.push_back(std::move(ba));
      }
    }
  }

  // Server states saved by `show servers state`, before any check runs.
  warnings_ = load_server_states(g, directory_.backends);
  for (const auto& w : warnings_) logger_.send(log::Level::Warning, w);

  // Health checks: servers spread round-robin over threads, the first check
  // of each spread over `inter` by position (HAProxy's start-up spreading).
  std::vector<std::pair<proxy::Backend*, proxy::Server*>> checked;
  for (auto& be : backends_)
    for (auto& s : be->servers())
      if (s->def().check || s->def().agent_check) checked.emplace_back(be.get(), s.get());
  for (std::size_t i = 0; i < checked.size(); ++i) {
    CheckPlacement cp;
    cp.backend = checked[i].first;
    cp.server = checked[i].second;
    cp.thread = static_cast<unsigned>(i % nthreads_);
    auto inter = cp.server->def().inter;
    cp.first_delay = std::chrono::milliseconds(inter.count() * static_cast<std::int64_t>(i) /
                                               static_cast<std::int64_t>(checked.size()));
    checks_.push_back(cp);
  }
  return build_cli();
}

void EngineImpl::start() {
  if (started_) return;
  started_ = true;
  pool_ = std::make_unique<core::Workers>(nthreads_);
  // Every server learns the worker loops: its sessions register per thread
  // (on-marked-down shutdown-sessions, `shutdown sessions server`).
  std::vector<core::Loop*> loops;
  for (unsigned t = 0; t < nthreads_; ++t) loops.push_back(&pool_->loop(t));
  for (auto& be : backends_)
    for (auto& s : be->servers()) s->links().set_loops(loops);
  for (unsigned t = 0; t < nthreads_; ++t)
    workers_.push_back(std::make_unique<Worker>(*this, pool_->loop(t), t));
  // Return once every thread has its listeners in its epoll set: "started"
  // then means "accepting", which a reload waits for before stopping the old.
  std::latch ready(static_cast<std::ptrdiff_t>(nthreads_));
  pool_->start([this, &ready](core::Loop& loop) {
    for (auto& w : workers_)
      if (&w->loop() == &loop) w->init();
    ready.count_down();
  });
  ready.wait();
}

void EngineImpl::soft_stop() {
  if (stopping_.exchange(true)) return;
  stop_cli();
  read_successor_frontends();
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->loop().post([wp] { wp->soft_stop(); });
  }
}

void EngineImpl::hard_stop() {
  stopping_.store(true, std::memory_order_release);
  stop_cli();
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->loop().post([wp] { wp->hard_stop(); });
  }
}

void EngineImpl::wait() {
  if (pool_) pool_->join();
}

void EngineImpl::broadcast_pause(Worker& self) {
  self.apply_pause();
  for (auto& w : workers_) {
    if (w.get() == &self) continue;
    Worker* wp = w.get();
    wp->loop().post([wp] { wp->apply_pause(); });
  }
}

namespace {

// Make `flag` say whether `count` has reached `limit`. Every thread that
// changes a count runs this afterwards, so the last one leaves the flag
// right even when changes race. True when this call flipped the flag.
template <class Count>
bool settle(std::atomic<bool>& flag, const std::atomic<Count>& count, unsigned limit) {
  bool flipped = false;
  for (;;) {
    const bool want = limit != 0 && count.load(std::memory_order_acquire) >= limit;
    bool have = flag.load(std::memory_order_acquire);
    if (want == have) return flipped;
    if (flag.compare_exchange_strong(have, want, std::memory_order_acq_rel)) flipped = true;
  }
}

}  // namespace

bool EngineImpl::admit(Worker& w, proxy::Frontend& fe) {
  unsigned a = actconn_.load(std::memory_order_acquire);
  const unsigned limit = maxconn();
  bool ok = true;
  do {
    if (a >= limit) {
      ok = false;
      break;
    }
  } while (!actconn_.compare_exchange_weak(a, a + 1, std::memory_order_acq_rel));
  if (ok && !fe.counters().try_reserve(fe.maxconn())) {
    actconn_.fetch_sub(1, std::memory_order_acq_rel);
    ok = false;
  }
  bool changed = settle(global_paused_, actconn_, maxconn());
  changed = settle(fe.paused(), fe.counters().cur, fe.maxconn()) || changed;
  if (changed) broadcast_pause(w);
  return ok;
}

void EngineImpl::release(Worker& w, proxy::Frontend& fe) {
  fe.counters().leave();
  actconn_.fetch_sub(1, std::memory_order_acq_rel);
  bool changed = settle(global_paused_, actconn_, maxconn());
  changed = settle(fe.paused(), fe.counters().cur, fe.maxconn()) || changed;
  if (changed) broadcast_pause(w);
}

void EngineImpl::set_maxconn(unsigned m) {
  maxconn_.store(m, std::memory_order_relaxed);
  // Lowered below the live connections: pause now; raised: accept at once.
  if (settle(global_paused_, actconn_, m) && !workers_.empty()) broadcast_pause(*workers_[0]);
}

void EngineImpl::set_frontend_maxconn(proxy::Frontend& fe, unsigned m) {
  fe.set_maxconn(m);
  if (settle(fe.paused(), fe.counters().cur, m) && !workers_.empty())
    broadcast_pause(*workers_[0]);
}

void EngineImpl::on_session_start(Worker& /*w*/, proxy::Frontend& fe) {
  // The slots were reserved by admit() before accept4.
  fe.counters().entered();
}

void EngineImpl::on_session_end(Worker& w, proxy::Frontend& fe) {
  fe.counters().leave();
  actconn_.fetch_sub(1, std::memory_order_acq_rel);
  bool changed = settle(global_paused_, actconn_, maxconn());
  changed = settle(fe.paused(), fe.counters().cur, fe.maxconn()) || changed;
  if (changed) broadcast_pause(w);
}

}  // namespace sluice::runtime
