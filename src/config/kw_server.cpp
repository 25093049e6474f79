// `server` and `default-server` lines and the table of their keywords.

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config {
namespace {

Result<unsigned> num(std::string_view kw, std::string_view a, unsigned lo, unsigned hi) {
  auto v = parse_uint(a, lo, hi);
  if (!v) return with_context(kw, v.error());
  return *v;
}

Result<Millis> positive_time(std::string_view kw, std::string_view a) {
  auto v = parse_time(a);
  if (!v) return with_context(kw, v.error());
  if (v->count() == 0) return make_error(std::string(kw) + ": the time must be above 0");
  return *v;
}

Result<void> s_weight(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("weight", a, 0, 256);
  if (!v) return Error{v.error()};
  s.weight = *v;
  return {};
}
Result<void> s_backup(Parser&, ServerDef& s, std::string_view) { s.backup = true; return {}; }
Result<void> s_no_backup(Parser&, ServerDef& s, std::string_view) { s.backup = false; return {}; }
Result<void> s_disabled(Parser&, ServerDef& s, std::string_view) { s.disabled = true; return {}; }
Result<void> s_enabled(Parser&, ServerDef& s, std::string_view) { s.disabled = false; return {}; }
Result<void> s_check(Parser&, ServerDef& s, std::string_view) { s.check = true; return {}; }
Result<void> s_no_check(Parser&, ServerDef& s, std::string_view) { s.check = false; return {}; }
Result<void> s_maxconn(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("maxconn", a, 0, 0xFFFFFFFF);
  if (!v) return Error{v.error()};
  s.maxconn = *v;
  return {};
}
Result<void> s_minconn(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("minconn", a, 0, 0xFFFFFFFF);
  if (!v) return Error{v.error()};
  s.minconn = *v;
  return {};
}
Result<void> s_maxqueue(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("maxqueue", a, 0, 0xFFFFFFFF);
  if (!v) return Error{v.error()};
  s.maxqueue = *v;
  return {};
}
Result<void> s_cookie(Parser&, ServerDef& s, std::string_view a) {
  s.cookie = std::string(a);
  return {};
}
Result<void> s_pool_max_conn(Parser&, ServerDef& s, std::string_view a) {
  auto v = parse_int(a, -1, 1 << 30);
  if (!v) return with_context("pool-max-conn", v.error());
  s.pool_max_conn = static_cast<int>(*v);
  return {};
}
Result<void> s_pool_low_conn(Parser&, ServerDef& s, std::string_view a) {
  auto v = parse_int(a, 0, 1 << 30);
  if (!v) return with_context("pool-low-conn", v.error());
  s.pool_low_conn = static_cast<unsigned>(*v);
  return {};
}
Result<void> s_pool_purge_delay(Parser&, ServerDef& s, std::string_view a) {
  auto v = parse_time(a);
  if (!v) return with_context("pool-purge-delay", v.error());
  s.pool_purge_delay = *v;
  return {};
}

Result<void> s_source(Parser& p, ServerDef& s, std::string_view a) {
  auto r = parse_address(a, AddrUse::Source, p.addr_opts());
  if (!r) return with_context("source", r.error());
  s.source = r->addr;
  return {};
}
Result<void> s_inter(Parser&, ServerDef& s, std::string_view a) {
  auto v = positive_time("inter", a);
  if (!v) return Error{v.error()};
  s.inter = *v;
  return {};
}
Result<void> s_fastinter(Parser&, ServerDef& s, std::string_view a) {
  auto v = positive_time("fastinter", a);
  if (!v) return Error{v.error()};
  s.fastinter = *v;
  return {};
}
Result<void> s_downinter(Parser&, ServerDef& s, std::string_view a) {
  auto v = positive_time("downinter", a);
  if (!v) return Error{v.error()};
  s.downinter = *v;
  return {};
}
Result<void> s_rise(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("rise", a, 1, 0x7FFFFFFF);
  if (!v) return Error{v.error()};
  s.rise = *v;
  return {};
}
Result<void> s_fall(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("fall", a, 1, 0x7FFFFFFF);
  if (!v) return Error{v.error()};
  s.fall = *v;
  return {};
}
Result<void> s_port(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("port", a, 1, 65535);
  if (!v) return Error{v.error()};
  s.check_port = static_cast<std::uint16_t>(*v);
  return {};
}
Result<void> s_addr(Parser& p, ServerDef& s, std::string_view a) {
  auto r = parse_address(a, AddrUse::Source, p.addr_opts());
  if (!r) return with_context("addr", r.error());
  s.check_addr = r->addr;
  return {};
}
Result<void> s_id(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("id", a, 1, 0x7FFFFFFF);
  if (!v) return Error{v.error()};
  s.id = static_cast<int>(*v);
  return {};
}

Result<void> s_agent_check(Parser&, ServerDef& s, std::string_view) {
  s.agent_check = true;
  return {};
}
Result<void> s_no_agent_check(Parser&, ServerDef& s, std::string_view) {
  s.agent_check = false;
  return {};
}
Result<void> s_agent_port(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("agent-port", a, 1, 65535);
  if (!v) return Error{v.error()};
  s.agent_port = static_cast<std::uint16_t>(*v);
  return {};
}
Result<void> s_agent_send(Parser&, ServerDef& s, std::string_view a) {
  s.agent_send = std::string(a);
  return {};
}
Result<void> s_agent_inter(Parser&, ServerDef& s, std::string_view a) {
  auto v = positive_time("agent-inter", a);
  if (!v) return Error{v.error()};
  s.agent_inter = *v;
  return {};
}
Result<void> s_slowstart(Parser&, ServerDef& s, std::string_view a) {
  auto v = parse_time(a);
  if (!v) return with_context("slowstart", v.error());
  s.slowstart = *v;
  return {};
}
Result<void> s_agent_addr(Parser& p, ServerDef& s, std::string_view a) {
  auto r = parse_address(a, AddrUse::Source, p.addr_opts());
  if (!r) return with_context("agent-addr", r.error());
  s.agent_addr = r->addr;
  return {};
}

Result<void> s_observe(Parser& p, ServerDef& s, std::string_view a) {
  if (a == "none") {
    s.observe = ServerDef::Observe::None;
  } else if (a == "layer4") {
    s.observe = ServerDef::Observe::Layer4;
  } else if (a == "layer7") {
    if (p.proxy().mode != Mode::Http)
      return make_error("'layer7' can only be used in http proxies");
    s.observe = ServerDef::Observe::Layer7;
  } else {
    return make_error("'observe' expects one of 'none', 'layer4', 'layer7' but got " + quote(a));
  }
  return {};
}
Result<void> s_error_limit(Parser&, ServerDef& s, std::string_view a) {
  auto v = num("error-limit", a, 1, 0x7FFFFFFF);
  if (!v) return Error{v.error()};
  s.error_limit = *v;
  return {};
}
Result<void> s_on_error(Parser&, ServerDef& s, std::string_view a) {
  using E = ServerDef::OnError;
  if (a == "fastinter") s.on_error = E::FastInter;
  else if (a == "fail-check") s.on_error = E::FailCheck;
  else if (a == "sudden-death") s.on_error = E::SuddenDeath;
  else if (a == "mark-down") s.on_error = E::MarkDown;
  else
    return make_error("'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or "
                      "'mark-down' but got " + quote(a));
  return {};
}
Result<void> s_on_marked_down(Parser&, ServerDef& s, std::string_view a) {
  if (a != "shutdown-sessions")
    return make_error("'on-marked-down' expects 'shutdown-sessions' but got " + quote(a));
  s.shutdown_on_down = true;
  return {};
}
Result<void> s_on_marked_up(Parser&, ServerDef& s, std::string_view a) {
  if (a != "shutdown-backup-sessions")
    return make_error("'on-marked-up' expects 'shutdown-backup-sessions' but got " + quote(a));
  s.shutdown_backups_on_up = true;
  return {};
}

constexpr KwStatus I = KwStatus::Implemented;
constexpr KwStatus N = KwStatus::NotYet;

// clang-format off
constexpr ServerKeyword kServerKeywords[] = {
    {"weight", I, 1, true, "0..256", s_weight, "share of the load"},
    {"backup", I, 0, true, "", s_backup, "used only when no active server is up"},
    {"no-backup", I, 0, true, "", s_no_backup, "cancels an inherited 'backup'"},
    {"disabled", I, 0, true, "", s_disabled, "starts in maintenance"},
    {"enabled", I, 0, true, "", s_enabled, "starts in service"},
    {"maxconn", I, 1, true, "N", s_maxconn, "concurrent connection limit"},
    {"minconn", I, 1, true, "N", s_minconn, "dynamic limit floor (with fullconn)"},
    {"maxqueue", I, 1, true, "N", s_maxqueue, "queue length limit"},
    {"source", I, 1, true, "ADDRESS[:PORT]", s_source, "source address of connections"},
    {"check", I, 0, true, "", s_check, "enables health checks"},
    {"no-check", I, 0, true, "", s_no_check, "disables health checks"},
    {"inter", I, 1, true, "TIME", s_inter, "check interval"},
    {"fastinter", I, 1, true, "TIME", s_fastinter, "check interval while changing state"},
    {"downinter", I, 1, true, "TIME", s_downinter, "check interval while down"},
    {"rise", I, 1, true, "N", s_rise, "successes to be up"},
    {"fall", I, 1, true, "N", s_fall, "failures to be down"},
    {"port", I, 1, true, "PORT", s_port, "health check port"},
    {"addr", I, 1, true, "ADDRESS", s_addr, "health check address"},
    {"id", I, 1, false, "N", s_id, "numeric server id"},
    {"agent-check", I, 0, true, "", s_agent_check, "enables the agent check"},
    {"no-agent-check", I, 0, true, "", s_no_agent_check, "disables the agent check"},
    {"agent-addr", I, 1, true, "ADDRESS", s_agent_addr, "agent check address"},
    {"agent-inter", I, 1, true, "TIME", s_agent_inter, "agent check interval"},
    {"agent-port", I, 1, true, "PORT", s_agent_port, "agent check port"},
    {"agent-send", I, 1, true, "STRING", s_agent_send, "string sent to the agent"},
    {"cookie", I, 1, false, "VALUE", s_cookie, "persistence cookie value"},
    {"slowstart", I, 1, true, "TIME", s_slowstart, "weight ramp time after coming back up"},
    {"observe", I, 1, true, "none|layer4|layer7", s_observe, "passive health from real traffic"},
    {"error-limit", I, 1, true, "N", s_error_limit, "consecutive observed errors before on-error"},
    {"on-error", I, 1, true, "fastinter|fail-check|sudden-death|mark-down", s_on_error,
     "what error-limit observed errors do"},
    {"on-marked-down", I, 1, true, "shutdown-sessions", s_on_marked_down,
     "close the server's sessions when it goes down"},
    {"on-marked-up", I, 1, true, "shutdown-backup-sessions", s_on_marked_up,
     "close the backup servers' sessions when it comes up"},
    {"pool-max-conn", I, 1, true, "N", s_pool_max_conn, "idle HTTP connections kept (-1: no limit)"},
    {"pool-purge-delay", I, 1, true, "TIME", s_pool_purge_delay, "idle HTTP connections closed after"},
    {"pool-low-conn", I, 1, true, "N", s_pool_low_conn,
     "idle connections a thread keeps before taking others' (Sluice's threads never take them)"},
    // not implemented yet
    {"allow-0rtt", N, 0, true, "", nullptr, ""}, {"alpn", N, 1, true, "", nullptr, ""},
    {"ca-file", N, 1, true, "", nullptr, ""}, {"check-alpn", N, 1, true, "", nullptr, ""},
    {"check-proto", N, 1, true, "", nullptr, ""}, {"check-send-proxy", N, 0, true, "", nullptr, ""},
    {"check-sni", N, 1, true, "", nullptr, ""}, {"check-ssl", N, 0, true, "", nullptr, ""},
    {"no-check-ssl", N, 0, true, "", nullptr, ""}, {"check-via-socks4", N, 0, true, "", nullptr, ""},
    {"ciphers", N, 1, true, "", nullptr, ""}, {"ciphersuites", N, 1, true, "", nullptr, ""},
    {"crl-file", N, 1, true, "", nullptr, ""},
    {"crt", N, 1, true, "", nullptr, ""}, {"curves", N, 1, true, "", nullptr, ""},
    {"sigalgs", N, 1, true, "", nullptr, ""}, {"client-sigalgs", N, 1, true, "", nullptr, ""},
    {"force-sslv3", N, 0, true, "", nullptr, ""},
    {"force-tlsv10", N, 0, true, "", nullptr, ""}, {"force-tlsv11", N, 0, true, "", nullptr, ""},
    {"force-tlsv12", N, 0, true, "", nullptr, ""}, {"force-tlsv13", N, 0, true, "", nullptr, ""},
    {"init-addr", N, 1, true, "", nullptr, ""}, {"log-proto", N, 1, true, "", nullptr, ""},
    {"max-reuse", N, 1, true, "", nullptr, ""}, {"namespace", N, 1, true, "", nullptr, ""},
    {"no-send-proxy", N, 0, true, "", nullptr, ""}, {"no-send-proxy-v2", N, 0, true, "", nullptr, ""},
    {"no-send-proxy-v2-ssl", N, 0, true, "", nullptr, ""}, {"no-send-proxy-v2-ssl-cn", N, 0, true, "", nullptr, ""},
    {"no-ssl", N, 0, true, "", nullptr, ""}, {"no-ssl-reuse", N, 0, true, "", nullptr, ""},
    {"no-sslv3", N, 0, true, "", nullptr, ""}, {"no-tfo", N, 0, true, "", nullptr, ""},
    {"no-tls-tickets", N, 0, true, "", nullptr, ""}, {"no-tlsv10", N, 0, true, "", nullptr, ""},
    {"no-tlsv11", N, 0, true, "", nullptr, ""}, {"no-tlsv12", N, 0, true, "", nullptr, ""},
    {"no-tlsv13", N, 0, true, "", nullptr, ""}, {"no-verifyhost", N, 0, true, "", nullptr, ""},
    {"non-stick", N, 0, true, "", nullptr, ""}, {"npn", N, 1, true, "", nullptr, ""},
    {"proto", N, 1, true, "", nullptr, ""},
    {"proxy-v2-options", N, 1, true, "", nullptr, ""}, {"redir", N, 1, true, "", nullptr, ""},
    {"resolve-net", N, 1, true, "", nullptr, ""}, {"resolve-opts", N, 1, true, "", nullptr, ""},
    {"resolve-prefer", N, 1, true, "", nullptr, ""}, {"resolvers", N, 1, true, "", nullptr, ""},
    {"send-proxy", N, 0, true, "", nullptr, ""}, {"send-proxy-v2", N, 0, true, "", nullptr, ""},
    {"send-proxy-v2-ssl", N, 0, true, "", nullptr, ""}, {"send-proxy-v2-ssl-cn", N, 0, true, "", nullptr, ""},
    {"sni", N, 1, true, "", nullptr, ""},
    {"socks4", N, 1, true, "", nullptr, ""}, {"ssl", N, 0, true, "", nullptr, ""},
    {"ssl-max-ver", N, 1, true, "", nullptr, ""}, {"ssl-min-ver", N, 1, true, "", nullptr, ""},
    {"ssl-reuse", N, 0, true, "", nullptr, ""}, {"stick", N, 0, true, "", nullptr, ""},
    {"tcp-ut", N, 1, true, "", nullptr, ""}, {"tfo", N, 0, true, "", nullptr, ""},
    {"tls-tickets", N, 0, true, "", nullptr, ""}, {"track", N, 1, true, "", nullptr, ""},
    {"verify", N, 1, true, "", nullptr, ""}, {"verifyhost", N, 1, true, "", nullptr, ""},
    {"ws", N, 1, true, "", nullptr, ""}, {"usesrc", N, 1, true, "", nullptr, ""},
    {"interface", N, 1, true, "", nullptr, ""}, {"shard", N, 1, true, "", nullptr, ""},
    {"hash-key", N, 1, true, "", nullptr, ""}, {"set-proxy-v2-tlv-fmt", N, 1, true, "", nullptr, ""},
    {"check-reuse-pool", N, 0, true, "", nullptr, ""}, {"check-pool-conn-name", N, 1, true, "", nullptr, ""},
};
// clang-format on

// Applies the keywords of a server or default-server line, from args[first].
void parse_server_keywords(Parser& p, ServerDef& s, const Args& args, std::size_t first,
                           bool is_default) {
  std::string_view line_kw = is_default ? "default-server" : "server";
  for (std::size_t i = first; i < args.size();) {
    const std::string& w = args[i];
    const ServerKeyword* k = find_keyword(server_keywords(), w);
    if (!k) {
      std::vector<std::string_view> names;
      for (const auto& e : server_keywords()) names.push_back(e.name);
      p.error(line_kw, "unknown " + std::string(line_kw) + " keyword " + quote(w) +
                           did_you_mean(w, names));
      return;  // the arity of an unknown word is unknown: stop here
    }
    if (i + static_cast<std::size_t>(k->nargs) >= args.size()) {
      p.error(line_kw, quote(w) + " expects an argument" +
                           (k->args.empty() ? std::string() : " (" + std::string(k->args) + ")"));
      return;
    }
    std::string_view arg = k->nargs ? std::string_view(args[i + 1]) : std::string_view();
    if (k->status == KwStatus::NotYet || !k->parse) {
      p.error(w, "server keyword " + quote(w) + " is not implemented yet in Sluice");
    } else if (is_default && !k->default_server_ok) {
      p.error(w, quote(w) + " is not valid on a default-server line");
    } else if (auto r = k->parse(p, s, arg); !r) {
      p.error(w, r.error());
    }
    i += 1 + static_cast<std::size_t>(k->nargs);
  }
}

}  // namespace

std::span<const ServerKeyword> server_keywords() { return kServerKeywords; }

namespace kw {

Result<void> server(Parser& p, const Stmt& st) {
  if (st.args.size() < 2) return make_error("'server' expects a name and an address");
  const std::string& name = st.args[0];
  for (const auto& other : p.proxy().servers)
    if (other.name == name)
      return make_error("duplicate server name " + quote(name) + " (first declared at " +
                        other.loc.file + ":" + std::to_string(other.loc.line) + ")");
  ServerDef s = p.draft().default_server;
  s.name = name;
  s.loc = p.loc();
  s.id = 0;
  auto a = parse_address(st.args[1], AddrUse::Server, p.addr_opts());
  if (!a) return Error{a.error()};
  s.addr = a->addr;
  s.port_from_client = !a->has_port || a->port_offset;
  s.port_offset_set = a->port_offset;
  s.port_offset = a->offset;
  if (s.addr.is_unix()) s.port_from_client = false;
  parse_server_keywords(p, s, st.args, 2, false);
  p.proxy().servers.push_back(std::move(s));
  return {};
}

Result<void> default_server(Parser& p, const Stmt& st) {
  parse_server_keywords(p, p.draft().default_server, st.args, 0, true);
  return {};
}

}  // namespace kw
}  // namespace sluice::config
