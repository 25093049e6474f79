#include "stats/snapshot.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctime>

#include "checks/check_types.h"

namespace sluice::stats {

namespace {

constexpr auto R = std::memory_order_relaxed;

struct RowBuilder {
  Row& r;
  void num(Col c, std::int64_t n) {
    r.v[c].is = Value::Is::Num;
    r.v[c].num = n;
  }
  void str(Col c, std::string s) {
    r.v[c].is = Value::Is::Str;
    r.v[c].str = std::move(s);
  }
};

std::string mode_name(const config::Proxy& p) {
  return p.mode == config::Mode::Http ? "http" : "tcp";
}

std::string algo_name(const config::Balance& b) {
  using A = config::BalanceAlgo;
  switch (b.algo) {
    case A::RoundRobin:
      return "roundrobin";
    case A::StaticRr:
      return "static-rr";
    case A::LeastConn:
      return "leastconn";
    case A::First:
      return "first";
    case A::Source:
      return "source";
    case A::Uri:
      return "uri";
    case A::UrlParam:
      return "url_param";
    case A::Hdr:
      return "hdr";
    case A::Random:
      return "random";
  }
  return "";
}

std::string addr_text(const config::Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a.storage).sin_addr, buf,
                sizeof buf);
    return std::string(buf) + ":" + std::to_string(a.port());
  }
  if (a.family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a.storage).sin6_addr, buf,
                sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(a.port());
  }
  return "unix";
}

// Fields every kind shares, from its session counters.
void common(RowBuilder& b, const proxy::SessionCounters& c, std::int64_t now_ms) {
  b.num(Scur, c.cur.load(R));
  b.num(Smax, c.max.load(R));
  b.num(Stot, static_cast<std::int64_t>(c.total.load(R)));
  b.num(Bin, static_cast<std::int64_t>(c.bytes_in.load(R)));
  b.num(Bout, static_cast<std::int64_t>(c.bytes_out.load(R)));
  b.num(Pid, 1);
  b.num(Rate, c.sess_rate.read(now_ms));
  b.num(RateMax, c.sess_rate.max());
  b.num(Eint, static_cast<std::int64_t>(c.internal_errors.load(R)));
  b.num(Wrew, 0);
}

void http_statuses(RowBuilder& b, const proxy::SessionCounters& c) {
  for (int i = 0; i < 6; ++i)
    b.num(static_cast<Col>(Hrsp1xx + i), static_cast<std::int64_t>(c.hrsp[i].load(R)));
}

// Backend and server: queue, errors, balancing, times.
void be_side(RowBuilder& b, const proxy::SessionCounters& c, std::int64_t now_wall) {
  b.num(Econ, static_cast<std::int64_t>(c.connect_errors.load(R)));
  b.num(Eresp, static_cast<std::int64_t>(c.resp_errors.load(R)));
  b.num(Wretr, static_cast<std::int64_t>(c.retries.load(R)));
  b.num(Wredis, static_cast<std::int64_t>(c.redispatches.load(R)));
  b.num(Dresp, static_cast<std::int64_t>(c.denied_resp.load(R)));
  b.num(Lbtot, static_cast<std::int64_t>(c.lbtot.load(R)));
  b.num(CliAbrt, static_cast<std::int64_t>(c.cli_aborts.load(R)));
  b.num(SrvAbrt, static_cast<std::int64_t>(c.srv_aborts.load(R)));
  std::int64_t last = c.last_session_s.load(R);
  b.num(Lastsess, last == 0 ? -1 : std::max<std::int64_t>(0, now_wall - last));
  b.num(Qtime, c.qtime.average());
  b.num(Ctime, c.ctime.average());
  b.num(Rtime, c.rtime.average());
  b.num(Ttime, c.ttime.average());
  b.num(QtimeMax, c.qtime.max());
  b.num(CtimeMax, c.ctime.max());
  b.num(RtimeMax, c.rtime.max());
  b.num(TtimeMax, c.ttime.max());
  b.num(Connect, static_cast<std::int64_t>(c.connects.load(R)));
  b.num(Reuse, static_cast<std::int64_t>(c.reuses.load(R)));
}

void modules(RowBuilder& b, Kind k) {
  for (int c = SslSess; c < kColumnCount; ++c) {
    const bool ssl = c <= SslFailedHandshake;
    if (k != Kind::Server || ssl) b.num(static_cast<Col>(c), 0);
  }
}

// The HTTP/1 module's fields of an HTTP frontend (client side) or backend
// (server side); TCP proxies have no H1 traffic and keep zeros, as HAProxy.
void h1_fields(RowBuilder& b, const proxy::SessionCounters& c, bool frontend, std::int64_t open) {
  b.num(H1OpenConnections, open);
  b.num(H1OpenStreams, open);
  b.num(H1TotalConnections,
        static_cast<std::int64_t>(frontend ? c.total.load(R) : c.connects.load(R)));
  b.num(H1TotalStreams, static_cast<std::int64_t>(c.requests.load(R)));
  // Bytes in and out as the H1 connections see them: from clients / from servers.
  b.num(H1BytesIn, static_cast<std::int64_t>(frontend ? c.bytes_in.load(R) : c.bytes_out.load(R)));
  b.num(H1BytesOut, static_cast<std::int64_t>(frontend ? c.bytes_out.load(R) : c.bytes_in.load(R)));
}

void frontend_row(Row& r, const proxy::Frontend& fe, const Sources& src, std::int64_t now_ms) {
  RowBuilder b{r};
  const auto& c = fe.counters();
  const bool http = fe.def().mode == config::Mode::Http;
  r.kind = Kind::Frontend;
  r.iid = fe.def().id;
  b.str(Pxname, fe.name());
  b.str(Svname, "FRONTEND");
  common(b, c, now_ms);
  b.num(Slim, fe.maxconn());
  b.num(Dreq, static_cast<std::int64_t>(c.denied.load(R)));
  b.num(Dresp, static_cast<std::int64_t>(c.denied_resp.load(R)));
  b.num(Ereq, static_cast<std::int64_t>(c.req_errors.load(R)));
  b.str(Status, src.stopping ? "STOP" : "OPEN");
  b.num(Iid, fe.def().id);
  b.num(Sid, 0);
  b.num(Type, 0);
  b.num(RateLim, 0);
  if (http) http_statuses(b, c);
  b.num(ReqRate, c.req_rate.read(now_ms));
  b.num(ReqRateMax, c.req_rate.max());
  b.num(ReqTot, static_cast<std::int64_t>(c.requests.load(R)));
  for (Col k : {CompIn, CompOut, CompByp, CompRsp}) b.num(k, 0);
  b.str(Mode, mode_name(fe.def()));
  b.num(ConnRate, c.sess_rate.read(now_ms));
  b.num(ConnRateMax, c.sess_rate.max());
  b.num(ConnTot, static_cast<std::int64_t>(c.total.load(R)));
  if (http) b.num(Intercepted, 0);
  b.num(Dcon, 0);
  b.num(Dses, 0);
  if (http) {
    b.num(CacheLookups, 0);
    b.num(CacheHits, 0);
  }
  modules(b, Kind::Frontend);
  if (http) h1_fields(b, c, true, c.cur.load(R));
}

// HAProxy's default fullconn: a tenth of the frontends' maxconn that can
// reach this backend, rounded up.
std::int64_t backend_slim(const proxy::Backend& be, const Sources& src) {
  if (be.def().fullconn != 0) return be.def().fullconn;
  std::uint64_t sum = 0;
  for (const auto& p : src.proxies) {
    if (p.fe == nullptr) continue;
    bool reaches = p.fe->default_backend() == &be;
    for (const auto& rt : p.fe->routes()) reaches = reaches || rt.backend == &be;
    if (reaches) sum += p.fe->maxconn();
  }
  return static_cast<std::int64_t>((sum + 9) / 10);
}

}  // namespace

std::string server_status(const proxy::Server& s) {
  const std::uint8_t a = s.admin();
  if (a & proxy::kAdminMaint) return "MAINT";
  const bool checked = s.def().check && s.health_enabled();
  const bool drain = (a & proxy::kAdminDrain) != 0;
  if (!checked && !(s.def().agent_check && s.agent_enabled())) {
    // Unchecked: only the runtime API (`set server ... health`) moves it.
    if (!s.up()) return "DOWN";
    if (drain) return "DRAIN";
    return (a & proxy::kAdminCheckDrain) ? "NOLB" : "no check";
  }
  if (!s.up()) {
    if (!s.check_ok() || !checked) {
      unsigned h = s.check().health.load(R);
      if (checked && h > 0 && h < s.def().rise)
        return "DOWN " + std::to_string(h) + "/" + std::to_string(s.def().rise);
    }
    return s.agent_ok() || !s.check_ok() ? "DOWN" : "DOWN (agent)";
  }
  std::string st = drain ? "DRAIN" : (a & proxy::kAdminCheckDrain) ? "NOLB" : "UP";
  if (checked) {
    unsigned h = s.check().health.load(R);
    unsigned top = s.def().rise + s.def().fall - 1;
    if (h < top && h >= s.def().rise)
      st += " " + std::to_string(h - s.def().rise + 1) + "/" + std::to_string(s.def().fall);
  }
  return st;
}

namespace {

void server_row(Row& r, const proxy::Backend& be, const proxy::Server& s, const Sources& src,
                std::int64_t now_ms, std::int64_t now_wall) {
  RowBuilder b{r};
  const auto& c = s.counters();
  const auto& d = s.def();
  const bool http = be.def().mode == config::Mode::Http;
  const bool checked = d.check;
  const bool agent = d.agent_check;
  r.kind = Kind::Server;
  r.iid = be.def().id;
  r.sid = d.id;
  b.str(Pxname, be.name());
  b.str(Svname, s.name());
  b.num(Qcur, const_cast<proxy::Server&>(s).queue().size());
  b.num(Qmax, const_cast<proxy::Server&>(s).queue().max_size());
  common(b, c, now_ms);
  if (s.maxconn() != 0) b.num(Slim, s.maxconn());
  be_side(b, c, now_wall);
  b.str(Status, server_status(s));
  b.num(Weight, s.weight());
  b.num(Act, s.backup() ? 0 : 1);
  b.num(Bck, s.backup() ? 1 : 0);
  const auto& cv = s.check();
  std::int64_t lastchg = cv.last_change_s.load(R);
  b.num(Lastchg, std::max<std::int64_t>(0, now_wall - (lastchg ? lastchg : src.start_wall_s)));
  if (checked) {
    b.num(Chkfail, static_cast<std::int64_t>(cv.failures.load(R)));
    b.num(Chkdown, static_cast<std::int64_t>(cv.downs.load(R)));
    std::int64_t down = cv.downtime_s.load(R);
    if (!s.up())
      down += std::max<std::int64_t>(0, now_wall - (lastchg ? lastchg : src.start_wall_s));
    b.num(Downtime, down);
  }
  if (d.maxqueue) b.num(Qlimit, *d.maxqueue);
  b.num(Iid, be.def().id);
  b.num(Sid, d.id);
  if (s.warming() && s.uweight() != 0) b.num(Throttle, s.weight() * 100 / s.uweight());
  b.num(Type, 2);
  auto check_fields = [&](const proxy::Server::CheckView& v, Col st, Col code, Col dur, Col last,
                          Col desc) {
    auto status = v.status.load(R);
    const auto& info = checks::status_info(status);
    b.str(st, std::string(info.name));
    if (info.has_code) b.num(code, v.code.load(R));
    std::int64_t ms = v.duration_ms.load(R);
    if (status != checks::CheckStatus::Unknown && status != checks::CheckStatus::Init)
      b.num(dur, std::max<std::int64_t>(0, ms));
    b.str(last, v.get_info());
    b.str(desc, std::string(info.reason));
  };
  if (checked) {
    check_fields(cv, CheckStatus, CheckCode, CheckDuration, LastChk, CheckDesc);
    b.num(CheckRise, d.rise);
    b.num(CheckFall, d.fall);
    b.num(CheckHealth, cv.health.load(R));
  }
  if (agent) {
    check_fields(s.agent(), AgentStatus, AgentCode, AgentDuration, LastAgt, AgentDesc);
    b.num(AgentRise, 1);
    b.num(AgentFall, 1);
    b.num(AgentHealth, s.agent_ok() ? 1 : 0);
  }
  if (http) {
    http_statuses(b, c);
    b.num(ReqTot, static_cast<std::int64_t>(c.requests.load(R)));
  }
  b.str(Addr, addr_text(s.addr()));
  if (!d.cookie.empty()) b.str(Cookie, d.cookie);
  b.str(Mode, mode_name(be.def()));
  b.num(SrvIcur, 0);
  b.num(IdleConnCur, 0);
  b.num(SafeConnCur, 0);
  b.num(UsedConnCur, s.connections());
  b.num(NeedConnEst, 0);
  b.num(Uweight, s.uweight());
  modules(b, Kind::Server);
}

void backend_row(Row& r, const proxy::Backend& be, const Sources& src, std::int64_t now_ms,
                 std::int64_t now_wall) {
  RowBuilder b{r};
  const auto& c = be.counters();
  const bool http = be.def().mode == config::Mode::Http;
  r.kind = Kind::Backend;
  r.iid = be.def().id;
  b.str(Pxname, be.name());
  b.str(Svname, "BACKEND");
  b.num(Qcur, const_cast<proxy::Backend&>(be).queue().size());
  b.num(Qmax, const_cast<proxy::Backend&>(be).queue().max_size());
  common(b, c, now_ms);
  b.num(Slim, backend_slim(be, src));
  b.num(Dreq, static_cast<std::int64_t>(c.denied.load(R)));
  be_side(b, c, now_wall);
  // Weights and counts of the servers that take traffic: the active ones,
  // or the backups when no active server is usable.
  std::int64_t act = 0, bck = 0, wact = 0, wbck = 0, uact = 0, ubck = 0;
  for (const auto& s : be.published_servers()) {
    if (s->removed() || !s->usable()) continue;
    if (s->backup()) {
      ++bck;
      wbck += s->weight();
      ubck += s->uweight();
    } else {
      ++act;
      wact += s->weight();
      uact += s->uweight();
    }
  }
  b.str(Status, act + bck > 0 ? "UP" : "DOWN");
  b.num(Weight, act > 0 ? wact : wbck);
  b.num(Act, act);
  b.num(Bck, bck);
  b.num(Chkdown, static_cast<std::int64_t>(be.state_downs()));
  b.num(Lastchg, std::max<std::int64_t>(0, now_wall - be.state_change_s()));
  std::int64_t down = be.state_downtime_s();
  if (!be.state_up()) down += std::max<std::int64_t>(0, now_wall - be.state_change_s());
  b.num(Downtime, down);
  b.num(Iid, be.def().id);
  b.num(Sid, 0);
  b.num(Type, 1);
  if (http) {
    http_statuses(b, c);
    b.num(ReqTot, static_cast<std::int64_t>(c.requests.load(R)));
  }
  for (Col k : {CompIn, CompOut, CompByp, CompRsp}) b.num(k, 0);
  if (!be.def().cookie.name.empty()) b.str(Cookie, be.def().cookie.name);
  b.str(Mode, mode_name(be.def()));
  b.str(Algo, algo_name(be.def().balance));
  if (http) {
    b.num(CacheLookups, 0);
    b.num(CacheHits, 0);
  }
  b.num(Uweight, act > 0 ? uact : ubck);
  b.num(AggServerStatus, 0);
  b.num(AggServerCheckStatus, 0);
  b.num(AggCheckStatus, 0);
  modules(b, Kind::Backend);
  if (http) {
    std::int64_t open = 0;
    for (const auto& s : be.published_servers()) open += s->connections();
    h1_fields(b, c, false, open);
  }
}

}  // namespace

std::vector<Row> snapshot(const Sources& src, const Filter& f) {
  std::vector<Row> rows;
  // A row is ~6 KB: growing the vector would move every row several times.
  std::size_t n = 0;
  for (const auto& p : src.proxies) n += 2 + (p.be ? p.be->published_servers().size() : 0);
  rows.reserve(n);
  const std::int64_t now_ms = proxy::coarse_steady_ms();
  const std::int64_t now_wall = static_cast<std::int64_t>(std::time(nullptr));
  for (const auto& p : src.proxies) {
    const config::Proxy& def = p.fe ? p.fe->def() : p.be->def();
    if (!f.proxy.empty() ? def.name != f.proxy : (f.iid != -1 && def.id != f.iid)) continue;
    if (p.fe && (f.types & 1U)) frontend_row(rows.emplace_back(), *p.fe, src, now_ms);
    if (p.be && (f.types & 4U)) {
      for (const auto& s : p.be->published_servers()) {
        if (s->removed() || (f.sid != -1 && s->def().id != f.sid)) continue;
        server_row(rows.emplace_back(), *p.be, *s, src, now_ms, now_wall);
      }
    }
    if (p.be && (f.types & 2U)) backend_row(rows.emplace_back(), *p.be, src, now_ms, now_wall);
  }
  return rows;
}

}  // namespace sluice::stats
