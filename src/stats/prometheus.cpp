// The Prometheus page: one pass per metric family over the snapshot rows,
// so each family's HELP and TYPE come once, before its samples. A family
// with no value for any row is left out (HAProxy prints NaN for unset
// limits; leaving the series out is what Prometheus recommends).

#include "stats/prometheus.h"

#include <array>
#include <charconv>
#include <string_view>

namespace sluice::stats {
namespace {

enum KindBit : unsigned { F = 1, B = 2, S = 4 };
// How a family's samples are made from a row.
enum class Shape : std::uint8_t {
  Plain,      // the column's number
  Millis,     // a millisecond column, written in seconds
  Status,     // one series per state label, 1 for the current one
  Responses,  // one series per code label (hrsp_1xx..other)
  CheckStatus,
  AggStatus,       // backend: servers per state
  AggCheckStatus,  // backend: servers per check status
};

struct Metric {
  unsigned kinds;
  std::string_view name;  // after haproxy_<kind>_
  Col col;
  bool counter;
  Shape shape;
  std::string_view help;
};

// clang-format off
constexpr Metric kMetrics[] = {
    {F|B|S, "current_queue", Qcur, false, Shape::Plain, "Requests waiting in the queue."},
    {F|B|S, "max_queue", Qmax, false, Shape::Plain, "Highest queue length seen."},
    {F|B|S, "current_sessions", Scur, false, Shape::Plain, "Sessions in progress."},
    {F|B|S, "max_sessions", Smax, false, Shape::Plain, "Highest number of concurrent sessions seen."},
    {F|B|S, "limit_sessions", Slim, false, Shape::Plain, "Configured session limit."},
    {F|B|S, "sessions_total", Stot, true, Shape::Plain, "Sessions since start."},
    {F|B|S, "bytes_in_total", Bin, true, Shape::Plain, "Bytes received from clients."},
    {F|B|S, "bytes_out_total", Bout, true, Shape::Plain, "Bytes sent to clients."},
    {F|B, "requests_denied_total", Dreq, true, Shape::Plain, "Requests denied by rules."},
    {F|B|S, "responses_denied_total", Dresp, true, Shape::Plain, "Responses denied by rules."},
    {F, "request_errors_total", Ereq, true, Shape::Plain, "Invalid or aborted requests."},
    {B|S, "connection_errors_total", Econ, true, Shape::Plain, "Failed connections to servers."},
    {B|S, "response_errors_total", Eresp, true, Shape::Plain, "Invalid or aborted server responses."},
    {B|S, "retry_warnings_total", Wretr, true, Shape::Plain, "Connection retries."},
    {B|S, "redispatch_warnings_total", Wredis, true, Shape::Plain, "Redispatches to another server."},
    {F|B|S, "status", Status, false, Shape::Status, "Current state, one series per state (1 for the current one)."},
    {B|S, "weight", Weight, false, Shape::Plain, "Effective weight."},
    {B, "active_servers", Act, false, Shape::Plain, "Usable active servers."},
    {B, "backup_servers", Bck, false, Shape::Plain, "Usable backup servers."},
    {S, "check_failures_total", Chkfail, true, Shape::Plain, "Failed health checks."},
    {B|S, "check_up_down_total", Chkdown, true, Shape::Plain, "UP to DOWN transitions."},
    {B|S, "check_last_change_seconds", Lastchg, false, Shape::Plain, "Seconds since the last state change."},
    {B|S, "downtime_seconds_total", Downtime, true, Shape::Plain, "Seconds spent DOWN."},
    {S, "queue_limit", Qlimit, false, Shape::Plain, "Configured queue limit (maxqueue)."},
    {S, "current_throttle", Throttle, false, Shape::Plain, "Slowstart throttle in percent."},
    {B|S, "loadbalanced_total", Lbtot, true, Shape::Plain, "Times the balancer picked this object."},
    {F, "limit_session_rate", RateLim, false, Shape::Plain, "Configured limit of new sessions per second."},
    {F|B|S, "max_session_rate", RateMax, false, Shape::Plain, "Highest new sessions per second seen."},
    {S, "check_status", CheckStatus, false, Shape::CheckStatus, "Status of the last health check, one series per status."},
    {S, "check_code", CheckCode, false, Shape::Plain, "Protocol code of the last health check (HTTP status...)."},
    {S, "check_duration_seconds", CheckDuration, false, Shape::Millis, "Duration of the last health check."},
    {F|B|S, "http_responses_total", Hrsp1xx, true, Shape::Responses, "HTTP responses by status class."},
    {F, "http_requests_rate_max", ReqRateMax, false, Shape::Plain, "Highest HTTP requests per second seen."},
    {F|B, "http_requests_total", ReqTot, true, Shape::Plain, "HTTP requests."},
    {B|S, "client_aborts_total", CliAbrt, true, Shape::Plain, "Transfers aborted by the client."},
    {B|S, "server_aborts_total", SrvAbrt, true, Shape::Plain, "Transfers aborted by the server."},
    {F|B, "http_comp_bytes_in_total", CompIn, true, Shape::Plain, "Bytes given to the HTTP compressor."},
    {F|B, "http_comp_bytes_out_total", CompOut, true, Shape::Plain, "Bytes out of the HTTP compressor."},
    {F|B, "http_comp_bytes_bypassed_total", CompByp, true, Shape::Plain, "Bytes that bypassed the HTTP compressor."},
    {F|B, "http_comp_responses_total", CompRsp, true, Shape::Plain, "HTTP responses compressed."},
    {B|S, "last_session_seconds", Lastsess, false, Shape::Plain, "Seconds since the last session (-1: never)."},
    {B|S, "queue_time_average_seconds", Qtime, false, Shape::Millis, "Average queue time of the last 1024 requests."},
    {B|S, "connect_time_average_seconds", Ctime, false, Shape::Millis, "Average connect time of the last 1024 requests."},
    {B|S, "response_time_average_seconds", Rtime, false, Shape::Millis, "Average response time of the last 1024 requests."},
    {B|S, "total_time_average_seconds", Ttime, false, Shape::Millis, "Average total time of the last 1024 requests."},
    {F, "connections_rate_max", ConnRateMax, false, Shape::Plain, "Highest connections per second seen."},
    {F, "connections_total", ConnTot, true, Shape::Plain, "Connections accepted."},
    {F, "intercepted_requests_total", Intercepted, true, Shape::Plain, "Requests answered by the proxy itself."},
    {F, "denied_connections_total", Dcon, true, Shape::Plain, "Connections denied by tcp-request connection rules."},
    {F, "denied_sessions_total", Dses, true, Shape::Plain, "Sessions denied by tcp-request session rules."},
    {F|B|S, "failed_header_rewriting_total", Wrew, true, Shape::Plain, "Failed header rewrites."},
    {B|S, "connection_attempts_total", Connect, true, Shape::Plain, "Connection attempts to servers."},
    {B|S, "connection_reuses_total", Reuse, true, Shape::Plain, "Reused server connections."},
    {F|B, "http_cache_lookups_total", CacheLookups, true, Shape::Plain, "HTTP cache lookups."},
    {F|B, "http_cache_hits_total", CacheHits, true, Shape::Plain, "HTTP cache hits."},
    {S, "idle_connections_current", SrvIcur, false, Shape::Plain, "Idle server connections."},
    {S, "idle_connections_limit", SrcIlim, false, Shape::Plain, "Limit of idle server connections."},
    {B|S, "max_queue_time_seconds", QtimeMax, false, Shape::Millis, "Longest queue time seen."},
    {B|S, "max_connect_time_seconds", CtimeMax, false, Shape::Millis, "Longest connect time seen."},
    {B|S, "max_response_time_seconds", RtimeMax, false, Shape::Millis, "Longest response time seen."},
    {B|S, "max_total_time_seconds", TtimeMax, false, Shape::Millis, "Longest total time seen."},
    {F|B|S, "internal_errors_total", Eint, true, Shape::Plain, "Internal errors."},
    {S, "unsafe_idle_connections_current", IdleConnCur, false, Shape::Plain, "Idle server connections not safe for new clients."},
    {S, "safe_idle_connections_current", SafeConnCur, false, Shape::Plain, "Idle server connections safe for new clients."},
    {S, "used_connections_current", UsedConnCur, false, Shape::Plain, "Server connections in use."},
    {S, "need_connections_current", NeedConnEst, false, Shape::Plain, "Estimated server connections needed."},
    {B|S, "uweight", Uweight, false, Shape::Plain, "User weight (before slowstart)."},
    {B, "agg_server_status", AggServerStatus, false, Shape::AggStatus, "Servers of the backend per state."},
    {B, "agg_check_status", AggCheckStatus, false, Shape::AggCheckStatus, "Servers of the backend per last check status."},
};
// clang-format on

constexpr std::array<std::string_view, 5> kServerStates = {"DOWN", "UP", "MAINT", "DRAIN", "NOLB"};
constexpr std::array<std::string_view, 16> kCheckStates = {
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP",
    "L7TOUT", "L7RSP", "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK"};
constexpr std::array<std::string_view, 6> kCodes = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};

unsigned bit(Kind k) {
  return k == Kind::Frontend ? F : k == Kind::Backend ? B : S;
}
std::string_view prefix(Kind k) {
  return k == Kind::Frontend ? "haproxy_frontend_" : k == Kind::Backend ? "haproxy_backend_"
                                                                        : "haproxy_server_";
}

void put_int(std::string& out, std::int64_t n) {
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, n);
  out.append(b, static_cast<std::size_t>(r.ptr - b));
}

void put_seconds(std::string& out, std::int64_t ms) {
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  put_int(out, ms / 1000);
  char f[4] = {'.', static_cast<char>('0' + ms % 1000 / 100),
               static_cast<char>('0' + ms % 100 / 10), static_cast<char>('0' + ms % 10)};
  out.append(f, 4);
}

void put_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// "haproxy_server_status{proxy="app",server="s1"" (no closing brace).
void open_series(std::string& out, Kind k, std::string_view name, const Row& r) {
  out += prefix(k);
  out += name;
  out += "{proxy=\"";
  put_label_value(out, r.v[Pxname].str);
  out += '"';
  if (k == Kind::Server) {
    out += ",server=\"";
    put_label_value(out, r.v[Svname].str);
    out += '"';
  }
}

void sample(std::string& out, Kind k, std::string_view name, const Row& r, std::string_view label,
            std::string_view value, std::int64_t n) {
  open_series(out, k, name, r);
  if (!label.empty()) {
    out += ',';
    out += label;
    out += "=\"";
    out += value;
    out += '"';
  }
  out += "} ";
  put_int(out, n);
  out += '\n';
}

void header(std::string& out, std::string_view full_prefix, std::string_view name,
            std::string_view help, bool counter) {
  out += "# HELP ";
  out += full_prefix;
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += full_prefix;
  out += name;
  out += counter ? " counter\n" : " gauge\n";
}

// The state a status text stands for: "UP 1/3" is still UP, "no check" is UP.
std::string_view state_of(Kind k, std::string_view s) {
  if (k == Kind::Frontend) return s == "OPEN" ? "UP" : "DOWN";
  if (s.substr(0, 2) == "UP" || s == "no check") return "UP";
  for (auto st : kServerStates)
    if (s.substr(0, st.size()) == st) return st;
  return "DOWN";
}

std::string_view check_state_of(const Value& v) {
  std::string_view s = v.str;
  if (s.substr(0, 2) == "* ") s.remove_prefix(2);
  for (auto st : kCheckStates)
    if (s == st) return st;
  return {};
}

void process_metrics(std::string& out, const ProcessInfo& p) {
  auto gauge = [&](std::string_view name, std::string_view help, std::int64_t v) {
    header(out, "haproxy_process_", name, help, false);
    out += "haproxy_process_";
    out += name;
    out += ' ';
    put_int(out, v);
    out += '\n';
  };
  gauge("nbproc", "Worker processes (always 1).", 1);
  gauge("uptime_seconds", "Seconds since the process started.", p.now_wall_s - p.start_wall_s);
  gauge("start_time_seconds", "Start time of the process (Unix seconds).", p.start_wall_s);
  gauge("max_fds", "Limit on open file descriptors.", p.max_fds);
  gauge("current_connections", "Client connections in progress.", p.current_connections);
  gauge("stopping", "1 while the process is stopping.", p.stopping ? 1 : 0);
  header(out, "haproxy_process_", "build_info", "Build information.", false);
  out += "haproxy_process_build_info{version=\"";
  put_label_value(out, p.version);
  out += "\"} 1\n";
}

}  // namespace

bool parse_prom_query(std::string_view query, PromQuery& q) {
  bool scoped = false;
  unsigned scopes = 0;
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (kv == "no-maint") {
      q.no_maint = true;
    } else if (kv.substr(0, 6) == "scope=") {
      std::string_view v = kv.substr(6);
      scoped = true;
      if (v == "*") scopes |= PromQuery::All;
      else if (v == "global") scopes |= PromQuery::Global;
      else if (v == "frontend") scopes |= PromQuery::Frontend;
      else if (v == "backend") scopes |= PromQuery::Backend;
      else if (v == "server") scopes |= PromQuery::Server;
      else if (v == "listener" || v == "sticktable" || v.empty()) {
        // Sluice has no metrics of these scopes.
      } else {
        return false;
      }
    }
  }
  if (scoped) q.scopes = scopes;
  return true;
}

void append_prometheus(std::string& out, const std::vector<Row>& rows, const ProcessInfo& p,
                       const PromQuery& q) {
  if (q.scopes & PromQuery::Global) process_metrics(out, p);
  for (Kind k : {Kind::Frontend, Kind::Backend, Kind::Server}) {
    const unsigned want = k == Kind::Frontend  ? PromQuery::Frontend
                          : k == Kind::Backend ? PromQuery::Backend
                                               : PromQuery::Server;
    if ((q.scopes & want) == 0) continue;
    for (const Metric& m : kMetrics) {
      if ((m.kinds & bit(k)) == 0) continue;
      bool started = false;
      auto begin = [&] {
        if (!started) header(out, prefix(k), m.name, m.help, m.counter);
        started = true;
      };
      for (const Row& r : rows) {
        if (r.kind != k) continue;
        if (q.no_maint && k == Kind::Server && r.v[Status].str.substr(0, 5) == "MAINT") continue;
        const Value& v = r.v[m.col];
        switch (m.shape) {
          case Shape::Plain:
            if (v.is != Value::Is::Num) break;
            begin();
            sample(out, k, m.name, r, {}, {}, v.num);
            break;
          case Shape::Millis:
            if (v.is != Value::Is::Num) break;
            begin();
            open_series(out, k, m.name, r);
            out += "} ";
            put_seconds(out, v.num);
            out += '\n';
            break;
          case Shape::Status: {
            if (v.is != Value::Is::Str) break;
            begin();
            std::string_view cur = state_of(k, v.str);
            if (k == Kind::Server) {
              for (auto st : kServerStates) sample(out, k, m.name, r, "state", st, st == cur);
            } else {
              for (std::string_view st : {"DOWN", "UP"})
                sample(out, k, m.name, r, "state", st, st == cur);
            }
            break;
          }
          case Shape::Responses:
            if (v.is != Value::Is::Num) break;
            begin();
            for (std::size_t c = 0; c < kCodes.size(); ++c)
              sample(out, k, m.name, r, "code", kCodes[c], r.v[Hrsp1xx + c].num);
            break;
          case Shape::CheckStatus: {
            std::string_view cur = check_state_of(v);
            if (cur.empty()) break;
            begin();
            for (auto st : kCheckStates) sample(out, k, m.name, r, "state", st, st == cur);
            break;
          }
          case Shape::AggStatus:
          case Shape::AggCheckStatus: {
            std::array<std::int64_t, kCheckStates.size()> count{};
            const bool checks = m.shape == Shape::AggCheckStatus;
            for (std::size_t j = 0; j < rows.size(); ++j) {
              if (rows[j].kind != Kind::Server || rows[j].iid != r.iid) continue;
              if (checks) {
                std::string_view cs = check_state_of(rows[j].v[CheckStatus]);
                for (std::size_t s = 0; s < kCheckStates.size(); ++s)
                  if (kCheckStates[s] == cs) ++count[s];
              } else {
                std::string_view st = state_of(Kind::Server, rows[j].v[Status].str);
                for (std::size_t s = 0; s < kServerStates.size(); ++s)
                  if (kServerStates[s] == st) ++count[s];
              }
            }
            begin();
            if (checks)
              for (std::size_t s = 0; s < kCheckStates.size(); ++s)
                sample(out, k, m.name, r, "state", kCheckStates[s], count[s]);
            else
              for (std::size_t s = 0; s < kServerStates.size(); ++s)
                sample(out, k, m.name, r, "state", kServerStates[s], count[s]);
            break;
          }
        }
      }
    }
  }
}

}  // namespace sluice::stats
