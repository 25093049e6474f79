#pragma once
// A point-in-time copy of every frontend, backend and server as HAProxy's
// stat fields (stats/columns.h), read from the runtime objects' atomics.
// Every output format (CSV, typed, JSON, and later Prometheus, the stats
// page, Graphite) formats a Snapshot; none reads the objects itself.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/backend.h"
#include "proxy/frontend.h"
#include "stats/columns.h"

namespace sluice::stats {

struct Value {
  enum class Is : std::uint8_t { Empty, Num, Str };
  Is is = Is::Empty;
  std::int64_t num = 0;
  std::string str;
  bool empty() const { return is == Is::Empty; }
};

struct Row {
  Kind kind = Kind::Frontend;
  int iid = 0;  // proxy id
  int sid = 0;  // server id; 0 for frontend and backend rows
  std::array<Value, kColumnCount> v;
};

// The proxies in configuration order; a `listen` has both sides.
struct ProxyEntry {
  const proxy::Frontend* fe = nullptr;
  const proxy::Backend* be = nullptr;
};

struct Sources {
  std::vector<ProxyEntry> proxies;
  std::int64_t start_wall_s = 0;  // process start, for "seconds since" of never-changed servers
  bool stopping = false;
};

// `show stat [<iid>|<proxy> <type> <sid>]`: iid -1 every proxy; type a
// bitmask 1 frontends, 2 backends, 4 servers; sid -1 every server.
struct Filter {
  int iid = -1;
  std::string proxy;  // by name, when not empty
  unsigned types = 7;
  int sid = -1;
};

std::vector<Row> snapshot(const Sources& src, const Filter& f = {});

// The `status` text of a server ("UP", "DOWN 1/2", "MAINT", "no check"...).
std::string server_status(const proxy::Server& s);

}  // namespace sluice::stats
