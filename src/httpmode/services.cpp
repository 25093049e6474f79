#include "httpmode/services.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "http/status.h"
#include "stats/expvar.h"
#include "stats/prometheus.h"

namespace sluice::httpmode {

std::int64_t process_start_wall_s() {
  // /proc/self/stat field 22 (start time in clock ticks after boot) plus
  // the boot time from /proc/stat; read once.
  static const std::int64_t start = [] {
    std::int64_t btime = 0;
    std::ifstream st("/proc/stat");
    for (std::string line; std::getline(st, line);)
      if (line.rfind("btime ", 0) == 0) btime = std::stoll(line.substr(6));
    std::ifstream self("/proc/self/stat");
    std::string all((std::istreambuf_iterator<char>(self)), std::istreambuf_iterator<char>());
    auto close = all.rfind(')');
    if (btime == 0 || close == std::string::npos) return static_cast<std::int64_t>(std::time(nullptr));
    std::istringstream rest(all.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i) {
    }
    const long hz = ::sysconf(_SC_CLK_TCK);
    return static_cast<std::int64_t>(btime + std::stoll(field) / (hz > 0 ? hz : 100));
  }();
  return start;
}

stats::Sources sources_of(const proxy::Directory& d) {
  stats::Sources s;
  for (auto* fe : d.frontends) s.proxies.push_back({fe, nullptr});
  for (auto* be : d.backends) {
    auto same = std::find_if(s.proxies.begin(), s.proxies.end(),
                             [&](const stats::ProxyEntry& e) { return e.fe && &e.fe->def() == &be->def(); });
    if (same != s.proxies.end())
      same->be = be;
    else
      s.proxies.push_back({nullptr, be});
  }
  std::stable_sort(s.proxies.begin(), s.proxies.end(),
                   [](const stats::ProxyEntry& a, const stats::ProxyEntry& b) {
                     return (a.fe ? a.fe->def().id : a.be->def().id) <
                            (b.fe ? b.fe->def().id : b.be->def().id);
                   });
  s.start_wall_s = process_start_wall_s();
  return s;
}

namespace {

std::string head_of(int status, std::size_t body_len, std::string_view content_type,
                    bool keep_alive, std::string_view extra_headers) {
  char first[160];
  const std::string_view reason = http::reason_phrase(static_cast<std::uint16_t>(status));
  int n = std::snprintf(first, sizeof first, "HTTP/1.1 %d %.*s\r\ncontent-length: %zu\r\n",
                        status, static_cast<int>(reason.size()), reason.data(), body_len);
  std::string out(first, static_cast<std::size_t>(n));
  if (!content_type.empty()) {
    out += "content-type: ";
    out += content_type;
    out += "\r\n";
  }
  out += "cache-control: no-cache\r\n";
  out += extra_headers;
  if (!keep_alive) out += "connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace

void http_response(std::string& out, int status, std::string_view content_type,
                   std::string_view body, bool keep_alive, std::string_view extra_headers) {
  out += head_of(status, body.size(), content_type, keep_alive, extra_headers);
  out += body;
}

void begin_body(std::string& out) { out.assign(kHeadRoom, ' '); }

Served finish_in_place(std::string& out, int status, std::string_view content_type,
                       bool keep_alive, std::string_view extra_headers) {
  const std::string head =
      head_of(status, out.size() - kHeadRoom, content_type, keep_alive, extra_headers);
  if (head.size() > kHeadRoom) {
    out.replace(0, kHeadRoom, head);
    return {status, 0};
  }
  const std::size_t start = kHeadRoom - head.size();
  out.replace(start, head.size(), head);
  return {status, start};
}

namespace {

stats::ProcessInfo process_info(std::int64_t current_connections, const stats::Sources& src) {
  stats::ProcessInfo p;
  p.start_wall_s = src.start_wall_s;
  p.now_wall_s = std::time(nullptr);
  p.current_connections = current_connections;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) p.max_fds = static_cast<std::int64_t>(rl.rlim_cur);
  p.stopping = src.stopping;
  p.version = SLUICE_VERSION;
  return p;
}

}  // namespace

ServiceWork prepare_service(config::HttpRule::Service which, const ServiceRequest& rq,
                            std::string& out) {
  if (rq.directory == nullptr) {
    http_response(out, 503, "text/plain", "no proxies\n", rq.keep_alive);
    return {{503, 0}, {}};
  }
  stats::PromQuery query;
  if (which == config::HttpRule::Service::Prometheus) {
    const auto qm = rq.target.find('?');
    if (qm != std::string_view::npos && !stats::parse_prom_query(rq.target.substr(qm + 1), query)) {
      http_response(out, 400, "text/html",
                    "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid "
                    "request.\n</body></html>\n",
                    rq.keep_alive);
      return {{400, 0}, {}};
    }
  }
  // The rest reads every proxy and server: milliseconds with 1,000 servers.
  const proxy::Directory* dir = rq.directory;
  const bool keep_alive = rq.keep_alive;
  ServiceJob job = [which, query, dir, keep_alive](std::string& body) -> Served {
    stats::Sources src = sources_of(*dir);
    std::int64_t conns = 0;
    for (const auto& e : src.proxies)
      if (e.fe) conns += e.fe->counters().cur.load(std::memory_order_relaxed);
    const stats::ProcessInfo info = process_info(conns, src);
    const std::vector<stats::Row> rows = stats::snapshot(src);
    if (which == config::HttpRule::Service::Prometheus) {
      begin_body(body);
      body.reserve(kHeadRoom + rows.size() * 6144);  // ~4.8 KB per checked server: no regrowth
      stats::append_prometheus(body, rows, info, query);
      return finish_in_place(body, 200, "text/plain; version=0.0.4; charset=utf-8", keep_alive);
    }
    http_response(body, 200, "application/json; charset=utf-8", stats::expvar_json(rows, info),
                  keep_alive);
    return {200, 0};
  };
  return {{}, std::move(job)};
}

Served run_service(config::HttpRule::Service which, const ServiceRequest& rq, std::string& out) {
  ServiceWork w = prepare_service(which, rq, out);
  return w.job ? w.job(out) : w.served;
}

bool stats_uri_matches(const config::StatsPage& page, std::string_view target) {
  return page.enabled && target.substr(0, page.uri.size()) == page.uri;
}

}  // namespace sluice::httpmode
