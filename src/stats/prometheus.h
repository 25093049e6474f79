#pragma once
// HAProxy's Prometheus exporter page (`http-request use-service
// prometheus-exporter`) built from a Snapshot: metric names are
// haproxy_{process,frontend,backend,server}_ + HAProxy's names, with its
// labels (proxy, server, state, code), in the text exposition format.

#include <cstdint>
#include <string>
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

// Appends the whole page (every metric family of `rows`) to `out`.
void append_prometheus(std::string& out, const std::vector<Row>& rows, const ProcessInfo& p);

}  // namespace sluice::stats
