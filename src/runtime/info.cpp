#include "runtime/info.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "stats/format.h"
#include "stats/graphite.h"

namespace sluice::runtime {

std::vector<InfoField> info_fields(const CliEnv& env) {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const std::int64_t up = std::max<std::int64_t>(0, now - env.start_wall_s);
  char uptime[64];
  std::snprintf(uptime, sizeof uptime, "%lldd %lldh%02lldm%02llds",
                static_cast<long long>(up / 86400), static_cast<long long>(up % 86400 / 3600),
                static_cast<long long>(up % 3600 / 60), static_cast<long long>(up % 60));
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  std::uint64_t cum_conns = 0, cum_req = 0, bytes_out = 0;
  std::uint32_t sess_rate = 0, sess_rate_max = 0;
  const std::int64_t now_ms = proxy::coarse_steady_ms();
  unsigned listeners = 0;
  for (const auto& p : env.proxies) {
    if (!p.fe) continue;
    const auto& c = p.fe->counters();
    cum_conns += c.total.load(std::memory_order_relaxed);
    cum_req += c.requests.load(std::memory_order_relaxed);
    bytes_out += c.bytes_out.load(std::memory_order_relaxed);
    sess_rate += c.sess_rate.read(now_ms);
    sess_rate_max = std::max(sess_rate_max, c.sess_rate.max());
    for (const auto& b : p.fe->def().binds) listeners += static_cast<unsigned>(b.addrs.size());
  }
  const unsigned cur = env.current_conns ? env.current_conns() : 0;
  std::string node = env.node;
  if (node.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    node = host;
  }
  const unsigned hard = env.hard_maxconn != 0 ? env.hard_maxconn : env.maxconn;
  auto n = [](auto v) { return std::to_string(v); };
  const std::string zero = "0";
  std::vector<InfoField> f = {
      {0, "Name", "POS", "str", "Sluice"},
      {1, "Version", "POS", "str", SLUICE_VERSION},
      {2, "Release_date", "POS", "str", "2026/11/23"},
      {3, "Nbthread", "CGS", "u32", n(env.nbthread)},
      {4, "Nbproc", "CGS", "u32", "1"},
      {5, "Process_num", "KGP", "u32", "1"},
      {6, "Pid", "SGP", "u32", n(::getpid())},
      {7, "Uptime", "MDP", "str", uptime},
      {8, "Uptime_sec", "MDP", "u32", n(up)},
      {9, "Memmax_MB", "CLP", "u32", zero},
      {10, "PoolAlloc_MB", "MGP", "u32", zero},
      {11, "PoolUsed_MB", "MGP", "u32", zero},
      {12, "PoolFailed", "MCP", "u32", zero},
      {13, "Ulimit-n", "CLP", "u32", n(rl.rlim_cur)},
      {14, "Maxsock", "CLP", "u32", n(rl.rlim_cur)},
      {15, "Maxconn", "CLP", "u32", n(env.maxconn)},
      {16, "Hard_maxconn", "CLP", "u32", n(hard)},
      {17, "CurrConns", "MGP", "u32", n(cur)},
      {18, "CumConns", "MCP", "u32", n(cum_conns)},
      {19, "CumReq", "MCP", "u32", n(cum_req)},
      {20, "MaxSslConns", "MMP", "u32", zero},
      {21, "CurrSslConns", "MGP", "u32", zero},
      {22, "CumSslConns", "MCP", "u32", zero},
      {23, "Maxpipes", "CLP", "u32", zero},
      {24, "PipesUsed", "MGP", "u32", zero},
      {25, "PipesFree", "MGP", "u32", zero},
      {26, "ConnRate", "MRP", "u32", n(sess_rate)},
      {27, "ConnRateLimit", "CLP", "u32", zero},
      {28, "MaxConnRate", "MMP", "u32", n(sess_rate_max)},
      {29, "SessRate", "MRP", "u32", n(sess_rate)},
      {30, "SessRateLimit", "CLP", "u32", zero},
      {31, "MaxSessRate", "MRP", "u32", n(sess_rate_max)},  // "Rate", as haproxy tags it
      {32, "SslRate", "MRP", "u32", zero},
      {33, "SslRateLimit", "CLP", "u32", zero},
      {34, "MaxSslRate", "MMP", "u32", zero},
      {35, "SslFrontendKeyRate", "MGP", "u32", zero},
      {36, "SslFrontendMaxKeyRate", "MMP", "u32", zero},
      {37, "SslFrontendSessionReuse_pct", "MGP", "u32", zero},
      {38, "SslBackendKeyRate", "MRP", "u32", zero},
      {39, "SslBackendMaxKeyRate", "MMP", "u32", zero},
      {40, "SslCacheLookups", "MCP", "u32", zero},
      {41, "SslCacheMisses", "MCP", "u32", zero},
      {42, "CompressBpsIn", "MRP", "u32", zero},
      {43, "CompressBpsOut", "MRP", "u32", zero},
      {44, "CompressBpsRateLim", "CLP", "u32", zero},
      // 45, 46: zlib memory, absent without zlib (as in Debian's build).
      {47, "Tasks", "MGP", "u32", n(cur)},
      {48, "Run_queue", "MGP", "u32", zero},
      {49, "Idle_pct", "MaP", "u32", "100"},
      {50, "node", "COS", "str", node},
      // 51: description, absent when empty.
      {52, "Stopping", "MGP", "u32", env.stopping && env.stopping() ? "1" : "0"},
      {53, "Jobs", "MGP", "u32", n(cur + listeners)},
      {54, "Unstoppable Jobs", "MGP", "u32", zero},
      {55, "Listeners", "MGP", "u32", n(listeners)},
      {56, "ActivePeers", "MGP", "u32", zero},
      {57, "ConnectedPeers", "MGP", "u32", zero},
      {58, "DroppedLogs", "MGP", "u32", zero},
      {59, "BusyPolling", "MGP", "u32", zero},
      {60, "FailedResolutions", "MGP", "u32", zero},
      {61, "TotalBytesOut", "MGP", "u64", n(bytes_out)},
      {62, "TotalSplicdedBytesOut", "MGP", "u64", zero},
      {63, "BytesOutRate", "MRP", "u64", zero},
      {64, "DebugCommandsIssued", "MGP", "u32", zero},
      {65, "CumRecvLogs", "MCP", "u32", zero},
      {66, "Build info", "POS", "str", SLUICE_VERSION},
      {67, "Memmax_bytes", "CLP", "u32", zero},
      {68, "PoolAlloc_bytes", "MGP", "u64", zero},
      {69, "PoolUsed_bytes", "MGP", "u64", zero},
      {70, "Start_time_sec", "MDP", "u32", n(env.start_wall_s)},
      {71, "Tainted", "SGP", "str", zero},
  };
  // Sluice's own, numbered well past haproxy's fields.
  if (stats::graphite_configured())
    f.push_back({100, "GraphiteDropped", "MCP", "u64", n(stats::graphite_dropped_total())});
  return f;
}

std::string info_plain(const std::vector<InfoField>& fields) {
  std::string o;
  for (const auto& f : fields) {
    o += f.name;
    o += ": ";
    o += f.value;
    o += '\n';
  }
  return o;
}

std::string info_typed(const std::vector<InfoField>& fields) {
  std::string o;
  for (const auto& f : fields) {
    o += std::to_string(f.pos);
    o += '.';
    o += f.name;
    o += ".1:";
    o += f.tags;
    o += ':';
    o += f.type;
    o += ':';
    o += f.value;
    o += '\n';
  }
  return o;
}

std::string info_json(const std::vector<InfoField>& fields) {
  std::string o = "[";
  for (const auto& f : fields) {
    if (o.size() > 1) o += ',';
    o += "{\"field\":{\"pos\":" + std::to_string(f.pos) + ",\"name\":";
    stats::append_json_string(o, f.name);
    o += "},\"processNum\":1,\"tags\":{\"origin\":\"";
    o += stats::tag_origin_name(f.tags[0]);
    o += "\",\"nature\":\"";
    o += stats::tag_nature_name(f.tags[1]);
    o += "\",\"scope\":\"";
    o += stats::tag_scope_name(f.tags[2]);
    o += "\"},\"value\":{\"type\":\"";
    o += f.type;
    o += "\",\"value\":";
    if (f.type == "str")
      stats::append_json_string(o, f.value);
    else
      o += f.value;
    o += "}}";
  }
  o += ']';
  return o;
}

}  // namespace sluice::runtime
