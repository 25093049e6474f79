// The runtime API's commands: one table (words, level, usage, help,
// handler). Answers and error texts are HAProxy's, so scripts and tools
// written for its stats socket (socat one-liners, hatop) read them.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>

#include "config/load.h"
#include "proxy/server_checks.h"
#include "runtime/cli.h"
#include "runtime/info.h"
#include "stats/format.h"
#include "stats/graphite.h"

namespace sluice::runtime {

// ---------------------------------------------------------------- env

stats::Sources CliEnv::sources() const {
  stats::Sources s;
  for (const auto& p : proxies) s.proxies.push_back({p.fe, p.be});
  s.start_wall_s = start_wall_s;
  s.stopping = stopping && stopping();
  return s;
}

namespace {
bool matches_proxy(const config::Proxy& d, std::string_view name) {
  if (!name.empty() && name[0] == '#') return std::to_string(d.id) == name.substr(1);
  return d.name == name;
}
}  // namespace

proxy::Backend* CliEnv::backend(std::string_view name) const {
  for (const auto& p : proxies)
    if (p.be && matches_proxy(p.be->def(), name)) return p.be;
  return nullptr;
}

proxy::Frontend* CliEnv::frontend(std::string_view name) const {
  for (const auto& p : proxies)
    if (p.fe && matches_proxy(p.fe->def(), name)) return p.fe;
  return nullptr;
}

// ---------------------------------------------------------------- parsing

std::vector<std::vector<std::string>> split_commands(std::string_view line) {
  std::vector<std::vector<std::string>> cmds(1);
  std::string word;
  bool in_word = false;
  auto end_word = [&] {
    if (in_word) cmds.back().push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == ';') {
      end_word();
      cmds.emplace_back();
    } else if (c == ' ' || c == '\t' || c == '\r') {
      end_word();
    } else {
      word += c;
      in_word = true;
    }
  }
  end_word();
  return cmds;
}

namespace {

using Words = std::vector<std::string>;
using Handler = CliReply (*)(CliEnv&, CliState&, const Words&);

struct Command {
  std::string_view words;  // "show servers state"
  CliLevel level;
  std::string_view usage;
  std::string_view help;
  Handler fn;
};

CliReply msg(std::string text) {
  return {std::move(text) + "\n", {}};
}  // adds the blank line
CliReply raw(std::string text) {
  return {std::move(text), {}};
}

std::optional<long long> to_int(std::string_view s) {
  long long v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// "b/s" -> the server, or HAProxy's error answer.
struct Target {
  proxy::Backend* be = nullptr;
  proxy::Server* srv = nullptr;
  std::string error;
};
Target find_target(CliEnv& env, const Words& w, std::size_t at) {
  Target t;
  std::string_view arg = at < w.size() ? std::string_view(w[at]) : std::string_view();
  auto slash = arg.find('/');
  if (slash == std::string_view::npos) {
    t.error = "Require 'backend/server'.\n";
    return t;
  }
  t.be = env.backend(arg.substr(0, slash));
  if (t.be == nullptr) {
    t.error = "No such backend.\n";
    return t;
  }
  std::string_view sname = arg.substr(slash + 1);
  for (const auto& s : t.be->servers()) {
    if (s->removed()) continue;
    if (!sname.empty() && sname[0] == '#' ? std::to_string(s->def().id) == sname.substr(1)
                                          : s->name() == sname) {
      t.srv = s.get();
      break;
    }
  }
  if (t.srv == nullptr) t.error = "No such server.\n";
  return t;
}

bool static_algo(const proxy::Backend& be) {
  using A = config::BalanceAlgo;
  const auto& b = be.def().balance;
  if (b.algo == A::StaticRr) return true;
  bool hashing =
      b.algo == A::Source || b.algo == A::Uri || b.algo == A::UrlParam || b.algo == A::Hdr;
  return hashing && b.hash_type == config::HashType::MapBased;
}

std::string now_date_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  ::localtime_r(&ts.tv_sec, &t);
  static const char* kMon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d/%s/%04d:%02d:%02d:%02d.%03ld", t.tm_mday, kMon[t.tm_mon],
                t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
  return buf;
}

// ---------------------------------------------------------------- show

CliReply show_info(CliEnv& env, CliState&, const Words& w) {
  const std::vector<InfoField> fields = info_fields(env);
  const std::string_view form = w.size() > 2 ? std::string_view(w[2]) : std::string_view();
  if (form == "typed") return msg(info_typed(fields));
  if (form == "json") return msg(info_json(fields) + "\n");
  return msg(info_plain(fields));
}

CliReply show_stat(CliEnv& env, CliState&, const Words& w) {
  enum class Form { Csv, Typed, Json } form = Form::Csv;
  bool only_up = false, no_maint = false;
  std::size_t at = 2;
  if (at + 1 < w.size() && w[at] == "domain") at += 2;
  stats::Filter f;
  // As HAProxy: three words after the command are a filter, the rest options.
  if (at + 2 < w.size()) {
    auto iid = to_int(w[at]);
    auto type = to_int(w[at + 1]);
    auto sid = to_int(w[at + 2]);
    if (iid) {
      f.iid = static_cast<int>(*iid);
    } else {
      bool known = false;
      for (const auto& p : env.proxies)
        known = known || (p.fe && p.fe->name() == w[at]) || (p.be && p.be->name() == w[at]);
      if (!known) return msg("No such proxy.\n");
      f.proxy = w[at];
    }
    f.types = type && *type != -1 ? static_cast<unsigned>(*type) : 7U;
    f.sid = sid ? static_cast<int>(*sid) : -1;
    at += 3;
  }
  for (std::size_t i = at; i < w.size(); ++i) {
    if (w[i] == "typed")
      form = Form::Typed;
    else if (w[i] == "json")
      form = Form::Json;
    else if (w[i] == "up")
      only_up = true;
    else if (w[i] == "no-maint")
      no_maint = true;
  }
  // Snapshot and formatting off the CLI's loop: 13 MB of JSON for 1,000 servers.
  CliReply r;
  r.off_loop = [src = env.sources(), f, form, only_up, no_maint] {
    std::vector<stats::Row> rows = stats::snapshot(src, f);
    if (only_up || no_maint) {
      std::erase_if(rows, [&](const stats::Row& row) {
        if (row.kind != stats::Kind::Server) return false;
        const std::string& s = row.v[stats::Status].str;
        if (no_maint && s.rfind("MAINT", 0) == 0) return true;
        return only_up && !(s.rfind("UP", 0) == 0 || s == "no check");
      });
    }
    std::string out;
    if (form == Form::Json) {
      stats::append_json(out, rows);
      out += "\n";
    } else if (form == Form::Typed) {
      for (const auto& row : rows) stats::append_typed(out, row);
    } else {
      out = stats::to_csv(rows);
    }
    out += '\n';  // the blank line that ends an answer
    return out;
  };
  return r;
}

// HAProxy's check status numbers in the server state file.
int state_check_status(checks::CheckStatus s) {
  using C = checks::CheckStatus;
  switch (s) {
    case C::Unknown:
      return 0;
    case C::Init:
      return 1;
    case C::Hana:
      return 4;
    case C::SockErr:
      return 5;
    case C::L4Ok:
      return 6;
    case C::L4Tout:
      return 7;
    case C::L4Con:
      return 8;
    case C::L6Ok:
      return 9;
    case C::L6Tout:
      return 10;
    case C::L6Rsp:
      return 11;
    case C::L7Tout:
      return 12;
    case C::L7Rsp:
      return 13;
    case C::L7Ok:
      return 15;
    case C::L7OkC:
      return 16;
    case C::L7Sts:
      return 17;
  }
  return 0;
}

std::string ip_only(const config::Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a.storage).sin_addr, buf,
                sizeof buf);
  else if (a.family() == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a.storage).sin6_addr, buf,
                sizeof buf);
  else
    return "-";
  return buf;
}

}  // namespace

std::string server_state_line(const proxy::Backend& be, const proxy::Server& s, std::int64_t now) {
  const auto& d = s.def();
  const auto& cv = s.check();
  std::uint8_t a = s.admin();
  int op = !s.up() ? 0 : (a & proxy::kAdminCheckDrain) ? 3 : 2;
  int admin = ((a & proxy::kAdminMaint) ? 0x01 : 0) | ((a & proxy::kAdminDrain) ? 0x08 : 0);
  // `disabled` in the configuration: haproxy's CMAINT beside FMAINT (5).
  if ((a & proxy::kAdminMaint) && d.disabled && !s.dynamic()) admin |= 0x04;
  std::int64_t last = cv.last_change_s.load(std::memory_order_relaxed);
  checks::CheckStatus st =
      d.check ? cv.status.load(std::memory_order_relaxed) : checks::CheckStatus::Init;
  int result = 0;
  if (d.check && st != checks::CheckStatus::Init && st != checks::CheckStatus::Unknown) {
    switch (checks::status_info(st).outcome) {
      case checks::CheckOutcome::Neutral:
        result = 1;
        break;
      case checks::CheckOutcome::Failed:
        result = 2;
        break;
      case checks::CheckOutcome::Passed:
        result = 3;
        break;
      case checks::CheckOutcome::CondPass:
        result = 4;
        break;
    }
  }
  unsigned health = cv.health.load(std::memory_order_relaxed);
  int check_state = d.check ? (0x02 | (s.health_enabled() ? 0x04 : 0)) : 0;
  int agent_state = d.agent_check ? (0x10 | 0x02 | (s.agent_enabled() ? 0x04 : 0)) : 0;
  const config::Address& addr = s.addr();
  std::string o;
  auto f = [&](const std::string& v) {
    if (!o.empty()) o += ' ';
    o += v;
  };
  f(std::to_string(be.def().id));
  f(be.name());
  f(std::to_string(d.id));
  f(s.name());
  f(ip_only(addr));
  f(std::to_string(op));
  f(std::to_string(admin));
  f(std::to_string(s.uweight()));
  f(std::to_string(d.weight));
  f(std::to_string(std::max<std::int64_t>(0, now - last)));
  f(std::to_string(state_check_status(st)));
  f(std::to_string(result));
  f(std::to_string(health));
  f(std::to_string(check_state));
  f(std::to_string(agent_state));
  f("0");
  f("0");
  f("-");
  f(std::to_string(addr.port()));
  f("-");
  f("0");
  // Runtime API changes (`set server ... check-port` ...) before the configuration.
  const checks::CheckOverrides ho = s.health_overrides(), ao = s.agent_overrides();
  f(std::to_string(ho.port ? *ho.port : d.check_port.value_or(0)));
  f(ho.addr ? ip_only(*ho.addr) : d.check_addr ? ip_only(*d.check_addr) : "-");
  f(ao.addr ? ip_only(*ao.addr) : d.agent_addr ? ip_only(*d.agent_addr) : "-");
  f(std::to_string(ao.port ? *ao.port : d.agent_port.value_or(0)));
  return o;
}

namespace {

CliReply show_servers_state(CliEnv& env, CliState&, const Words& w) {
  proxy::Backend* only = nullptr;
  if (w.size() > 3) {
    only = env.backend(w[3]);
    if (only == nullptr) return msg("Can't find backend.\n");
  }
  std::string o =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
      "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
      "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
      "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
      "srv_agent_port\n";
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  for (const auto& p : env.proxies) {
    if (!p.be || (only && p.be != only)) continue;
    for (const auto& s : p.be->servers())
      if (!s->removed()) o += server_state_line(*p.be, *s, now) + "\n";
  }
  return msg(o);
}

CliReply show_backend(CliEnv& env, CliState&, const Words&) {
  std::string o = "# name\n";
  for (const auto& p : env.proxies)
    if (p.be) o += p.be->name() + "\n";
  return msg(o);
}

CliReply show_sess(CliEnv& env, CliState&, const Words&) {
  if (!env.list_sessions) return msg("");
  CliReply r;
  r.async = env.list_sessions;
  return r;
}

CliReply show_errors(CliEnv& env, CliState&, const Words& w) {
  if (w.size() > 2 && w[2] != "request" && w[2] != "response" && w[2] != "-1") {
    if (env.frontend(w[2]) == nullptr && env.backend(w[2]) == nullptr)
      return msg("No such proxy.\n");
  }
  // Sluice does not capture invalid messages yet: nothing to show.
  return msg("Total events captured on [" + now_date_ms() + "] : 0\n");
}

CliReply show_cli_level(CliEnv&, CliState& st, const Words&) {
  return msg(st.level == CliLevel::Admin      ? "admin\n"
             : st.level == CliLevel::Operator ? "operator\n"
                                              : "user\n");
}

CliReply lower_level(CliEnv&, CliState& st, const Words& w) {
  CliLevel want = w[0] == "user" ? CliLevel::User : CliLevel::Operator;
  if (want > st.level) return msg("Permission denied\n");
  st.level = want;
  return msg("");
}

CliReply set_timeout(CliEnv&, CliState& st, const Words& w) {
  if (w.size() < 3 || w[2] != "cli") return msg("'set timeout' only supports 'cli'.\n");
  if (w.size() < 4) return msg("Expects an integer value.\n");
  auto v = to_int(w[3]);
  if (!v || *v <= 0 || *v > 24 * 3600) return msg("Invalid timeout value.\n");
  st.timeout_ms = *v * 1000;
  return msg("");
}

// ---------------------------------------------------------------- servers

CliReply set_state(proxy::Backend& be, proxy::Server& s, std::string_view state) {
  using A = proxy::Backend::AdminState;
  if (state == "ready")
    be.set_server_admin(s, A::Ready);
  else if (state == "drain")
    be.set_server_admin(s, A::Drain);
  else if (state == "maint")
    be.set_server_admin(s, A::Maint);
  else
    return msg("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n");
  return msg("");
}

CliReply apply_weight(proxy::Backend& be, proxy::Server& s, const Words& w, std::size_t at) {
  if (at >= w.size()) return msg("Require <weight> or <weight%>.\n");
  std::string_view v = w[at];
  bool relative = !v.empty() && v.back() == '%';
  if (relative) v.remove_suffix(1);
  auto n = to_int(v);
  if (!n) return raw("Empty weight string empty or preceded by garbage\n");
  long long weight = *n;
  if (relative) {
    if (weight < 0) return msg("Relative weight must be positive.\n");
    weight = std::min<long long>(256, weight * s.def().weight / 100);
  } else if (weight < 0 || weight > 256) {
    return msg("Absolute weight can only be between 0 and 256 inclusive.\n");
  }
  if (static_algo(be) && weight != 0 && weight != static_cast<long long>(s.def().weight))
    return msg(
        "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n");
  be.set_server_uweight(s, static_cast<std::uint32_t>(weight));
  return msg("");
}

bool parse_ip(std::string_view text, config::Address& a) {
  std::string t(text);
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET, t.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(a.port());
    std::memcpy(&a.storage, &v4, sizeof v4);
    a.length = sizeof v4;
  } else if (::inet_pton(AF_INET6, t.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(a.port());
    std::memcpy(&a.storage, &v6, sizeof v6);
    a.length = sizeof v6;
  } else {
    return false;
  }
  a.text = t;
  return true;
}

void set_addr_port(config::Address& a, std::uint16_t port) {
  if (a.family() == AF_INET) reinterpret_cast<sockaddr_in&>(a.storage).sin_port = htons(port);
  if (a.family() == AF_INET6) reinterpret_cast<sockaddr_in6&>(a.storage).sin6_port = htons(port);
}

// Runs `fn` on the server's check thread (CliEnv::with_checks); the answer
// comes once it ran, so the next command of the line sees its effect.
CliReply on_check_thread(CliEnv& env, proxy::Server& s, CliEnv::ChecksFn fn) {
  if (!env.with_checks) return msg(fn(nullptr));
  CliReply r;
  CliEnv* e = &env;
  proxy::Server* sp = &s;
  r.async = [e, sp, fn = std::move(fn)](std::function<void(std::string)> done) {
    e->with_checks(*sp, fn, std::move(done));
  };
  return r;
}

std::string retarget_checks(proxy::ServerChecks* sc) {
  if (sc != nullptr) sc->retarget();
  return {};
}

// `set server B/S health up|stopping|down`, `agent up|down`.
CliReply set_health(CliEnv& env, proxy::Backend& be, proxy::Server& s, const Words& w, bool agent) {
  using F = proxy::Backend::Forced;
  if (agent && !(s.def().agent_check && s.agent_enabled()))
    return msg("agent checks are not enabled on this server.\n");
  const std::string_view arg = w.size() > 4 ? std::string_view(w[4]) : std::string_view();
  std::optional<F> f;
  if (arg == "up")
    f = F::Up;
  else if (arg == "down")
    f = F::Down;
  else if (arg == "stopping" && !agent)
    f = F::Stopping;
  if (!f)
    return msg(agent ? "'set server <srv> agent' expects 'up' or 'down'.\n"
                     : "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n");
  proxy::Backend* bp = &be;
  proxy::Server* sp = &s;
  const F forced = *f;
  return on_check_thread(env, s, [bp, sp, forced, agent](proxy::ServerChecks* sc) {
    if (sc != nullptr) {
      sc->force(forced, agent);
    } else {
      bp->force_state(*sp, forced, agent);
      // No check loop ticks a slowstart ramp here: come back at full weight.
      if (sp->warming()) {
        sp->check_local().warm_start_ms = -1;
        if (sp->update_weight(proxy::coarse_steady_ms())) bp->bump_generation();
      }
    }
    return std::string();
  });
}

// A port word of check-port, agent-port or "... port P": HAProxy's answers.
std::optional<std::string> parse_port(std::string_view text, std::uint16_t& port) {
  auto v = to_int(text);
  if (!v) return "provided port is not an integer\n";
  if (*v < 0 || *v > 65535) return "provided port is invalid\n";
  port = static_cast<std::uint16_t>(*v);
  return std::nullopt;
}

// agent-addr also takes a host name (resolved now, IPv4 first, as haproxy).
bool resolve_host(const std::string& host, config::Address& a) {
  for (int family : {AF_INET, AF_INET6}) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) continue;
    char ip[INET6_ADDRSTRLEN] = {};
    const void* src = family == AF_INET
                          ? static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in*>(res->ai_addr)->sin_addr)
                          : static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in6*>(res->ai_addr)->sin6_addr);
    const bool ok = ::inet_ntop(family, src, ip, sizeof ip) != nullptr;
    ::freeaddrinfo(res);
    if (ok && parse_ip(ip, a)) return true;
  }
  return false;
}

// `set server B/S check-addr|agent-addr <ip> [port <p>]`, `check-port|agent-port <p>`.
CliReply set_check_target(CliEnv& env, proxy::Server& s, const Words& w) {
  const std::string& what = w[3];
  const bool agent = what.starts_with("agent");
  const bool is_addr = what.ends_with("-addr");
  if (agent ? !(s.def().agent_check && s.agent_enabled()) : !(s.def().check && s.health_enabled()))
    return raw(agent ? "agent checks are not enabled on this server\n"
                     : "health checks are not enabled on this server\n");
  if (w.size() < 5)
    return msg("set server <b>/<s> " + what +
               (is_addr ? " requires an address and optionally a port.\n" : " requires a port.\n"));
  std::optional<config::Address> addr;
  std::optional<std::uint16_t> port;
  std::uint16_t p = 0;
  if (is_addr) {
    config::Address a;
    if (!parse_ip(w[4], a) && !(agent && resolve_host(w[4], a)))
      return raw("invalid addr '" + w[4] + "'\n");
    addr = a;
    if (w.size() > 5 && w[5] == "port") {
      if (auto err = parse_port(w.size() > 6 ? std::string_view(w[6]) : std::string_view(), p))
        return raw(*err);
      port = p;
    }
  } else {
    if (auto err = parse_port(w[4], p)) return raw(*err);
    port = p;
  }
  s.change_overrides([&](checks::CheckOverrides& health, checks::CheckOverrides& ag) {
    checks::CheckOverrides& o = agent ? ag : health;
    if (addr) o.addr = addr;
    if (port) o.port = port;
  });
  return on_check_thread(env, s, retarget_checks);
}

CliReply set_agent_send(CliEnv& env, proxy::Server& s, const Words& w) {
  if (!(s.def().agent_check && s.agent_enabled()))
    return msg("agent checks are not enabled on this server.\n");
  std::string line = w.size() > 4 ? w[4] : std::string();
  s.change_overrides(
      [&](checks::CheckOverrides&, checks::CheckOverrides& ag) { ag.send = std::move(line); });
  return on_check_thread(env, s, retarget_checks);
}

CliReply set_addr(CliEnv& env, proxy::Server& s, const Words& w) {
  const char* by = " by 'stats socket command'\n";
  if (w.size() < 5)
    return msg("set server <b>/<s> addr requires an address and optionally a port.\n");
  config::Address next = s.addr();
  const std::string old_ip = ip_only(next);
  const std::uint16_t old_port = next.port();
  if (!parse_ip(w[4], next)) return msg("Invalid addr '" + w[4] + "'" + by);
  std::string text;
  const std::string new_ip = ip_only(next);
  if (new_ip != old_ip)
    text = "IP changed from '" + old_ip + "' to '" + new_ip + "'";
  else
    text = "no need to change the addr";
  if (w.size() > 5 && w[5] == "port") {
    std::string_view p = w.size() > 6 ? std::string_view(w[6]) : std::string_view();
    auto port = to_int(p);
    if (!port || *port < 0 || *port > 65535) {
      text += ", problem converting port '" + std::string(p) + "' to an int";
    } else if (*port != old_port) {
      text += ", port changed from '" + std::to_string(old_port) + "' to '" +
              std::to_string(*port) + "'";
      set_addr_port(next, static_cast<std::uint16_t>(*port));
    }
  }
  if (ip_only(next) != old_ip || next.port() != old_port) {
    s.set_addr(next);
    // Checks without check-addr/agent-addr follow the server (next run).
    if (env.with_checks) env.with_checks(s, retarget_checks, nullptr);
  }
  return msg(text + by);
}

CliReply set_server(CliEnv& env, CliState&, const Words& w) {
  Target t = find_target(env, w, 2);
  if (!t.error.empty()) return msg(t.error);
  static const std::string kUsage =
      "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | "
      "check-addr | check-port | fqdn | health | ssl | state | weight\n";
  if (w.size() < 4) return msg(kUsage);
  const std::string& what = w[3];
  if (what == "state") return set_state(*t.be, *t.srv, w.size() > 4 ? w[4] : "");
  if (what == "weight") return apply_weight(*t.be, *t.srv, w, 4);
  if (what == "addr") return set_addr(env, *t.srv, w);
  if (what == "health" || what == "agent")
    return set_health(env, *t.be, *t.srv, w, what == "agent");
  if (what == "check-addr" || what == "check-port" || what == "agent-addr" || what == "agent-port")
    return set_check_target(env, *t.srv, w);
  if (what == "agent-send") return set_agent_send(env, *t.srv, w);
  // Sluice has no resolvers and no TLS to servers: haproxy's answers for a
  // server without resolution and without ssl settings.
  if (what == "fqdn")
    return msg(w.size() < 5
                   ? "set server <b>/<s> fqdn requires a FQDN.\n"
                   : "set server <b>/<s> fqdn failed because no resolution is configured.\n");
  if (what == "ssl")
    return msg(
        "'set server <srv> ssl' cannot be set.  default-server should define ssl settings\n");
  return msg(kUsage);
}

CliReply set_weight(CliEnv& env, CliState&, const Words& w) {
  Target t = find_target(env, w, 2);
  if (!t.error.empty()) return msg(t.error);
  return apply_weight(*t.be, *t.srv, w, 3);
}

CliReply get_weight(CliEnv& env, CliState&, const Words& w) {
  Target t = find_target(env, w, 2);
  if (!t.error.empty()) return msg(t.error);
  return msg(std::to_string(t.srv->uweight()) + " (initial " + std::to_string(t.srv->def().weight) +
             ")\n");
}

CliReply enable_disable_server(CliEnv& env, CliState&, const Words& w) {
  Target t = find_target(env, w, 2);
  if (!t.error.empty()) return msg(t.error);
  t.be->set_server_maint(*t.srv, w[0] == "disable");
  return msg("");
}

CliReply enable_disable_check(CliEnv& env, CliState&, const Words& w) {
  Target t = find_target(env, w, 2);
  if (!t.error.empty()) return msg(t.error);
  const bool enable = w[0] == "enable";
  const bool agent = w[1] == "agent";
  proxy::Server& s = *t.srv;
  if (!(agent ? s.def().agent_check : s.def().check)) {
    if (!enable) return msg("");
    return msg(agent ? "Agent was not configured on this server, cannot enable.\n"
                     : "Health check was not configured on this server, cannot enable.\n");
  }
  auto& flag = agent ? s.agent_enabled() : s.health_enabled();
  if (flag.exchange(enable) == enable) return msg("");
  if (!enable) {
    // A check set aside no longer holds the server down.
    if (agent)
      s.set_agent_ok(true);
    else
      s.set_check_ok(true);
    if (!s.up() && s.check_ok() && s.agent_ok()) t.be->set_server_up(s, nullptr);
  }
  if (s.dynamic() && env.run_checks) env.run_checks(s, s.health_enabled() || s.agent_enabled());
  return msg("");
}

CliReply set_maxconn(CliEnv& env, CliState&, const Words& w) {
  if (w.size() < 3) return msg("'set maxconn' only supports 'frontend', 'server' and 'global'.\n");
  if (w[2] == "server") {
    Target t = find_target(env, w, 3);
    if (!t.error.empty()) return msg(t.error);
    if (w.size() < 5) return msg("Require <maxconn>.\n");
    auto v = to_int(w[4]);
    if (!v || *v < 0) return raw("maxconn string empty or preceded by garbage\n");
    t.srv->set_maxconn(static_cast<unsigned>(*v));
    t.be->dispatch(*t.srv);
    return msg("");
  }
  if (w[2] == "frontend") {
    if (w.size() < 4) return msg("A frontend name is expected.\n");
    proxy::Frontend* fe = env.frontend(w[3]);
    if (fe == nullptr) return msg("No such frontend.\n");
    if (w.size() < 5) return msg("Integer value expected.\n");
    auto v = to_int(w[4]);
    if (!v || *v < 0) return msg("Value out of range.\n");
    if (env.set_frontend_maxconn)
      env.set_frontend_maxconn(*fe, static_cast<unsigned>(*v));
    else
      fe->set_maxconn(static_cast<unsigned>(*v));
    return msg("");
  }
  if (w[2] == "global") {
    if (w.size() < 4) return msg("Expects an integer value.\n");
    // As haproxy reads it (atoi): leading digits, anything else is 0.
    const long long v = std::strtoll(w[3].c_str(), nullptr, 10);
    const unsigned hard = env.hard_maxconn != 0 ? env.hard_maxconn : env.maxconn;
    if (v > static_cast<long long>(hard)) return msg("Value out of range.\n");
    // 0 (or less) restores the configured limit.
    env.maxconn = v > 0 ? static_cast<unsigned>(v) : hard;
    if (env.set_global_maxconn) env.set_global_maxconn(env.maxconn);
    return msg("");
  }
  return msg("'set maxconn' only supports 'frontend', 'server' and 'global'.\n");
}

// Words the config parser would read specially: a CLI word never carries them.
bool plain_word(const std::string& s) {
  return s.find_first_of("\"'\\$#\n") == std::string::npos;
}

CliReply add_server(CliEnv& env, CliState&, const Words& w) {
  std::string_view arg = w.size() > 2 ? std::string_view(w[2]) : std::string_view();
  auto slash = arg.find('/');
  if (slash == std::string_view::npos) return raw("Require 'backend/server'.\n");
  proxy::Backend* be = env.backend(arg.substr(0, slash));
  if (be == nullptr) return raw("No such backend.\n");
  std::string name(arg.substr(slash + 1));
  if (static_algo(*be))
    return raw("Backend must use a dynamic load balancing to support dynamic servers.\n");
  if (name.empty() || w.size() < 4)
    return msg("'server' expects <name> and <addr>[:<port>] as arguments.\n");
  if (be->find_server(name) != nullptr)
    return msg("Already exists a server with the same name in backend.\n");
  // The server line goes through the configuration parser (same keywords,
  // same messages), in a backend of its own: no default-server applies.
  std::string text = std::string("backend cli-add-server\n  mode ") +
                     (be->def().mode == config::Mode::Http ? "http" : "tcp") + "\n  server";
  for (std::size_t i = 1; i < w.size(); ++i) {
    const std::string& word = i == 2 ? name : w[i];
    if (i == 1) continue;
    if (!plain_word(word)) return msg("invalid character in '" + word + "'.\n");
    text += ' ';
    text += word;
  }
  text += '\n';
  config::LoadOptions lo;
  lo.resolve_hostnames = false;
  config::LoadResult lr = config::load_text(text, "cli", lo);
  if (!lr.ok()) return msg(lr.errors.front().message + "\n");
  const config::Proxy* p = lr.model.find_proxy("cli-add-server");
  if (p == nullptr || p->servers.size() != 1)
    return msg("'server' expects <name> and <addr>[:<port>] as arguments.\n");
  config::ServerDef def = p->servers.front();
  // The parser numbered it in its own backend: keep only an explicit `id`.
  if (std::find(w.begin() + 4, w.end(), "id") == w.end()) def.id = 0;
  Result<proxy::Server*> added = be->add_server(std::move(def));
  if (!added) return msg(added.error() + "\n");
  proxy::Server* s = *added;
  // HAProxy: checks of an added server wait for `enable health|agent`.
  s->health_enabled().store(false);
  s->agent_enabled().store(false);
  if ((s->def().check || s->def().agent_check) && env.create_checks) env.create_checks(*be, *s);
  return msg("New server registered.\n");
}

CliReply del_server(CliEnv& env, CliState&, const Words& w) {
  Target t = find_target(env, w, 2);
  if (!t.error.empty()) return raw(t.error);
  proxy::Server& s = *t.srv;
  if (!s.maint()) return raw("Only servers in maintenance mode can be deleted.\n");
  if (s.connections() != 0 || s.queue().size() != 0 || s.counters().cur.load() != 0)
    return raw("Server still has connections attached to it, cannot remove it.\n");
  if (env.drop_checks && (s.def().check || s.def().agent_check)) env.drop_checks(s);
  s.set_removed();
  t.be->bump_generation();
  return raw("Server deleted.\n");
}

CliReply clear_counters(CliEnv& env, CliState& st, const Words& w) {
  const bool all = w.size() > 2 && w[2] == "all";
  if (all && st.level < CliLevel::Admin) return msg("Permission denied\n");
  auto clear = [all](proxy::SessionCounters& c) { all ? c.clear_all() : c.clear_maxima(); };
  for (const auto& p : env.proxies) {
    if (p.fe) clear(p.fe->counters());
    if (p.be) {
      clear(p.be->counters());
      p.be->queue().clear_max();
      for (const auto& s : p.be->servers()) {
        clear(s->counters());
        s->queue().clear_max();
        if (all) {
          s->check().failures.store(0);
          s->check().downs.store(0);
        }
      }
    }
  }
  return msg("");
}

CliReply shutdown_sessions(CliEnv& env, CliState&, const Words& w) {
  Target t = find_target(env, w, 3);
  if (!t.error.empty()) return msg(t.error);
  if (!env.shutdown_sessions)
    return msg("'shutdown sessions server' is not implemented yet in Sluice.\n");
  env.shutdown_sessions(*t.srv);
  return msg("");
}

// clang-format off
const Command kCommands[] = {
    {"add server", CliLevel::Admin, "add server <bk>/<srv>", "create a new server (starts in maintenance)", add_server},
    {"clear counters", CliLevel::Operator, "clear counters [all]", "clear max statistics counters (or all counters)", clear_counters},
    {"del server", CliLevel::Admin, "del server <bk>/<srv>", "remove a server (in maintenance, without sessions)", del_server},
    {"disable agent", CliLevel::Admin, "disable agent <bk>/<srv>", "disable a server's agent check", enable_disable_check},
    {"disable health", CliLevel::Admin, "disable health <bk>/<srv>", "disable a server's health check", enable_disable_check},
    {"disable server", CliLevel::Admin, "disable server <bk>/<srv>", "put a server in maintenance (same as 'set server ... state maint')", enable_disable_server},
    {"enable agent", CliLevel::Admin, "enable agent <bk>/<srv>", "enable a server's agent check", enable_disable_check},
    {"enable health", CliLevel::Admin, "enable health <bk>/<srv>", "enable a server's health check", enable_disable_check},
    {"enable server", CliLevel::Admin, "enable server <bk>/<srv>", "take a server out of maintenance (same as 'set server ... state ready')", enable_disable_server},
    {"get weight", CliLevel::User, "get weight <bk>/<srv>", "show a server's current and initial weight", get_weight},
    {"operator", CliLevel::User, "operator", "lower this session's level to operator", lower_level},
    {"set maxconn", CliLevel::Admin, "set maxconn server|frontend|global ...", "change a server's, a frontend's or the process's maxconn", set_maxconn},
    {"set server", CliLevel::Admin, "set server <bk>/<srv> [opts]", "change a server's state, health, weight or (check) address", set_server},
    {"set timeout", CliLevel::User, "set timeout cli <delay>", "change this session's idle timeout (seconds)", set_timeout},
    {"set weight", CliLevel::Admin, "set weight <bk>/<srv> <w>[%]", "change a server's weight (same as 'set server ... weight')", set_weight},
    {"show backend", CliLevel::User, "show backend", "list the backends", show_backend},
    {"show cli level", CliLevel::User, "show cli level", "show this session's level", show_cli_level},
    {"show errors", CliLevel::Operator, "show errors [<px>] [request|response]", "show captured invalid requests and responses", show_errors},
    {"show info", CliLevel::User, "show info [typed|json]", "show information about the running process", show_info},
    {"show servers state", CliLevel::User, "show servers state [<backend>]", "dump server state (server-state-file format)", show_servers_state},
    {"show sess", CliLevel::Operator, "show sess", "list the live sessions, one line each", show_sess},
    {"show stat", CliLevel::User, "show stat [json|typed|up|no-maint]*", "show counters of every proxy and server", show_stat},
    {"shutdown sessions", CliLevel::Admin, "shutdown sessions server <bk>/<srv>", "close every session of a server", shutdown_sessions},
    {"user", CliLevel::User, "user", "lower this session's level to user", lower_level},
};
// clang-format on

std::string help_line(std::string_view usage, std::string_view help) {
  std::string l = "  ";
  l += usage;
  if (usage.size() < 40) l.append(40 - usage.size(), ' ');
  l += ": ";
  l += help;
  l += '\n';
  return l;
}

std::string help_tail() {
  return help_line("help [<command>]", "list matching or all commands") +
         help_line("prompt", "toggle interactive mode with prompt") +
         help_line("quit", "disconnect");
}

// How many leading words of `cmd` match `w`.
std::size_t matched_words(const Command& cmd, const Words& w) {
  std::size_t n = 0, pos = 0;
  std::string_view words = cmd.words;
  while (pos < words.size()) {
    auto sp = words.find(' ', pos);
    std::string_view one = words.substr(pos, sp == std::string_view::npos ? sp : sp - pos);
    if (n >= w.size() || w[n] != one) return n;
    ++n;
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return n;
}

std::size_t word_count(std::string_view s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), ' ')) + 1;
}

}  // namespace

std::string help_text(CliLevel level) {
  std::string o;
  for (const auto& c : kCommands)
    if (c.level <= level) o += help_line(c.usage, c.help);
  return o + help_tail();
}

CliReply run_command(CliEnv& env, CliState& st, const Words& w) {
  if (w.empty()) return msg("");  // an empty command answers nothing
  if (w[0] == "help")
    return msg("The following commands are valid at this level:\n" + help_text(st.level));
  if (w[0] == "prompt") {
    st.prompt = !st.prompt;
    return msg("");
  }
  if (w[0] == "quit") {
    st.quit = true;
    return raw("");
  }
  const Command* best = nullptr;
  for (const auto& c : kCommands)
    if (matched_words(c, w) == word_count(c.words)) best = &c;
  if (best == nullptr) {
    std::string near;
    for (const auto& c : kCommands)
      if (c.level <= st.level && matched_words(c, w) > 0) near += help_line(c.usage, c.help);
    if (!near.empty())
      return msg("Unknown command, but maybe one of the following ones is a better match:\n" +
                 near + help_tail());
    return msg("Unknown command. Please enter one of the following commands only:\n" +
               help_text(st.level));
  }
  if (best->level > st.level) return msg("Permission denied\n");
  return best->fn(env, st, w);
}

}  // namespace sluice::runtime
