#pragma once
// HAProxy's Prometheus exporter page (`http-request use-service
// prometheus-exporter`) built from a Snapshot: metric names are
// haproxy_{process,frontend,backend,server}_ + HAProxy's names, with its
// labels (proxy, server, state, code), in the text exposition format.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stats/snapshot.h"

namespace sluice::stats {

// Process-wide figures for the haproxy_process_* metrics.
struct ProcessInfo {
  std::int64_t start_wall_s = 0;
  std::int64_t now_wall_s = 0;
  std::int64_t current_connections = 0;
  std::int64_t max_fds = 0;
  bool stopping = false;
  std::string version;
};

// The exporter's query string: `scope=global|frontend|backend|server|*`
// (repeatable; `scope=` alone selects nothing) and `no-maint` (servers in
// maintenance left out).
struct PromQuery {
  enum Scope : unsigned { Global = 1, Frontend = 2, Backend = 4, Server = 8, All = 15 };
  unsigned scopes = All;
  bool no_maint = false;
};
// False for an unknown scope (HAProxy answers 400).
bool parse_prom_query(std::string_view query, PromQuery& q);

// Appends the whole page (every metric family of `rows`) to `out`.
void append_prometheus(std::string& out, const std::vector<Row>& rows, const ProcessInfo& p,
                       const PromQuery& q = {});

}  // namespace sluice::stats
