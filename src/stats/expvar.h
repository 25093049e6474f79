#pragma once
// A Go-expvar-shaped JSON document (`http-request use-service expvar`):
// "cmdline" (the process arguments), "memstats" (Go's field names, filled
// from the C allocator and /proc/self/statm) and "sluice" (uptime and every
// numeric stat column by proxy and server), so pollers built for Go
// services read Sluice unchanged.

#include <string>
#include <vector>

#include "stats/prometheus.h"
#include "stats/snapshot.h"

namespace sluice::stats {

std::string expvar_json(const std::vector<Row>& rows, const ProcessInfo& p);

}  // namespace sluice::stats
