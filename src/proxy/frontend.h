#pragma once
// A frontend's runtime object: routing to backends, connection limits,
// counters and its log targets.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acl/condition.h"
#include "config/model.h"
#include "log/logformat.h"
#include "log/logger.h"
#include "proxy/backend.h"
#include "proxy/counters.h"

namespace sluice::httpmode {
struct ProxyHttp;  // http-request/-response rules, log-format (httpmode/rules.h)
}

namespace sluice::proxy {

struct Directory;

struct Route {
  Backend* backend = nullptr;
  const config::UseBackend* rule = nullptr;
  std::unique_ptr<acl::CompiledCondition> cond;  // null: unconditional
};

class Frontend {
 public:
  Frontend(const config::Proxy& def, std::uint32_t index, const log::Logger* logger,
           unsigned maxconn)
      : def_(def), index_(index), logger_(logger), maxconn_(maxconn) {}
  Frontend(const Frontend&) = delete;
  Frontend& operator=(const Frontend&) = delete;

  const config::Proxy& def() const { return def_; }
  const std::string& name() const { return def_.name; }
  std::uint32_t index() const { return index_; }
  const log::Logger* logger() const { return logger_; }
  // TCP session lines go out only with `option tcplog` or a `log-format`,
  // and some log target.
  bool logs_sessions() const {
    return (def_.tcplog || log_format_ != nullptr) && logger_ != nullptr && !logger_->empty();
  }
  // This proxy's `log-format`, compiled; null: the built-in formats.
  const log::LogFormat* log_format() const { return log_format_; }
  void set_log_format(const log::LogFormat* lf) { log_format_ = lf; }

  // 0: unlimited here (the global limit still applies).
  unsigned maxconn() const { return maxconn_.load(std::memory_order_relaxed); }
  void set_maxconn(unsigned m) { maxconn_.store(m, std::memory_order_relaxed); }  // runtime API
  SessionCounters& counters() { return counters_; }
  const SessionCounters& counters() const { return counters_; }

  std::vector<Route>& routes() { return routes_; }
  const std::vector<Route>& routes() const { return routes_; }
  Backend* default_backend() const { return default_backend_; }
  void set_default_backend(Backend* b) { default_backend_ = b; }

  // Every proxy, for fetches that name another one (be_conn(app)...).
  const Directory* directory() const { return directory_; }
  void set_directory(const Directory* d) { directory_ = d; }

  // HTTP rules and log-format of this proxy; null when it has none.
  const httpmode::ProxyHttp* http() const { return http_; }
  void set_http(const httpmode::ProxyHttp* h) { http_ = h; }

  // Set while this frontend's listeners are paused for its maxconn.
  std::atomic<bool>& paused() { return paused_; }

 private:
  const config::Proxy& def_;
  std::uint32_t index_;
  const log::Logger* logger_;
  std::atomic<unsigned> maxconn_;
  SessionCounters counters_;
  std::vector<Route> routes_;
  Backend* default_backend_ = nullptr;
  std::atomic<bool> paused_{false};
  const Directory* directory_ = nullptr;
  const httpmode::ProxyHttp* http_ = nullptr;
  const log::LogFormat* log_format_ = nullptr;
};

using FrontendPtr = std::unique_ptr<Frontend>;

}  // namespace sluice::proxy
