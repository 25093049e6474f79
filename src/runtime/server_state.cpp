#include "runtime/server_state.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace sluice::runtime {

namespace {

// Columns of format 1: the first 19 (up to srv_port) are required; haproxy
// versions add srvrecord, srv_use_ssl, check/agent address and ports after.
constexpr std::size_t kMinFields = 19;
constexpr std::size_t kMaxFields = 25;

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > b) out.push_back(line.substr(b, i - b));
  }
  return out;
}

template <class T>
bool number(std::string_view v, T& out) {
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

bool same_ip(const config::Address& a, const std::string& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a.storage).sin_addr, buf,
                sizeof buf);
  else if (a.family() == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a.storage).sin6_addr, buf,
                sizeof buf);
  return ip == buf;
}

// `a` with the IP `ip` and the port `port`; false when `ip` is not an IP.
bool with_ip_port(config::Address& a, const std::string& ip, std::uint16_t port) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET, ip.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&a.storage, &v4, sizeof v4);
    a.length = sizeof v4;
  } else if (::inet_pton(AF_INET6, ip.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&a.storage, &v6, sizeof v6);
    a.length = sizeof v6;
  } else {
    return false;
  }
  a.text = ip + ":" + std::to_string(port);
  return true;
}

std::string join(const std::string& base, const std::string& name) {
  if (name.empty() || name[0] == '/' || base.empty()) return name;
  return base.back() == '/' ? base + name : base + "/" + name;
}

}  // namespace

Result<ServerStateLine> parse_server_state_line(std::string_view line) {
  std::vector<std::string_view> f = fields(line);
  if (f.size() < kMinFields || f.size() > kMaxFields)
    return make_error("expected " + std::to_string(kMinFields) + " to " +
                      std::to_string(kMaxFields) + " fields, got " + std::to_string(f.size()));
  ServerStateLine l;
  auto num = [&](std::size_t i, auto& out, const char* what) -> Result<void> {
    if (!number(f[i], out))
      return make_error(std::string("invalid ") + what + " '" + std::string(f[i]) + "'");
    return {};
  };
  int bk_forced = 0;
  int srv_forced = 0;
  for (auto r :
       {num(0, l.be_id, "be_id"), num(2, l.srv_id, "srv_id"), num(5, l.op_state, "srv_op_state"),
        num(6, l.admin_state, "srv_admin_state"), num(7, l.uweight, "srv_uweight"),
        num(8, l.iweight, "srv_iweight"), num(9, l.since_last_change, "srv_time_since_last_change"),
        num(10, l.check_status, "srv_check_status"), num(11, l.check_result, "srv_check_result"),
        num(12, l.check_health, "srv_check_health"), num(13, l.check_state, "srv_check_state"),
        num(14, l.agent_state, "srv_agent_state"), num(15, bk_forced, "bk_f_forced_id"),
        num(16, srv_forced, "srv_f_forced_id"), num(18, l.port, "srv_port")})
    if (!r) return make_error(r.error());
  l.be_name = f[1];
  l.srv_name = f[3];
  l.srv_addr = f[4];
  l.fqdn = f[17];
  l.bk_forced_id = bk_forced != 0;
  l.srv_forced_id = srv_forced != 0;
  if (l.op_state < 0 || l.op_state > 3)
    return make_error("invalid srv_op_state '" + std::string(f[5]) + "'");
  if (l.admin_state < 0 || l.admin_state > 0x3f)
    return make_error("invalid srv_admin_state '" + std::string(f[6]) + "'");
  if (l.port < 0 || l.port > 65535)
    return make_error("invalid srv_port '" + std::string(f[18]) + "'");
  if (l.uweight > 256 || l.iweight > 256) return make_error("invalid weight");
  return l;
}

ServerStateFile parse_server_state_file(std::string_view text, std::string_view name) {
  ServerStateFile out;
  bool version_seen = false;
  std::size_t lineno = 0;
  for (std::size_t b = 0; b < text.size();) {
    std::size_t e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = text.substr(b, e - b);
    b = e + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    const std::string where = std::string(name) + ":" + std::to_string(lineno) + ": ";
    if (!version_seen) {
      version_seen = true;
      if (fields(line).size() == 1 && fields(line)[0] == "1") continue;
      out.warnings.push_back(where + "unsupported server state file version '" + std::string(line) +
                             "' (expected 1); file ignored");
      return out;
    }
    Result<ServerStateLine> l = parse_server_state_line(line);
    if (!l) {
      // As haproxy: a corrupted file is not trusted at all.
      out.warnings.push_back(where + "corrupted server state file (" + l.error() +
                             "); file ignored");
      out.lines.clear();
      return out;
    }
    out.lines.push_back(std::move(*l));
  }
  if (!version_seen && !text.empty())
    out.warnings.push_back(std::string(name) + ": no version line; file ignored");
  return out;
}

void apply_server_state(proxy::Backend& be, proxy::Server& s, const ServerStateLine& l,
                        std::int64_t now, std::vector<std::string>& warnings) {
  const std::string who = be.name() + "/" + s.name();
  // Forced ids must still agree, or the line may be about another object.
  if (l.srv_forced_id && l.srv_id != static_cast<std::int64_t>(s.def().id)) {
    warnings.push_back("server-state: " + who + ": id " + std::to_string(l.srv_id) +
                       " in the file, " + std::to_string(s.def().id) +
                       " in the configuration; line skipped");
    return;
  }
  // Admin state: forced maintenance and drain are the operator's; the
  // configuration's `disabled` stays the configuration's (CMAINT not restored).
  // Maintenance that came from a `disabled` the configuration no longer has
  // (CMAINT in the file) is not restored, as haproxy.
  const bool from_config = (l.admin_state & kStateConfigMaint) && !s.def().disabled;
  if ((l.admin_state & kStateForcedMaint) && !from_config && !s.maint())
    be.set_server_maint(s, true);
  if ((l.admin_state & kStateForcedDrain) && !(s.admin() & proxy::kAdminDrain))
    be.set_server_drain(s, true);
  // The weight, unless the configuration changed the initial weight.
  if (l.iweight == s.def().weight) {
    if (l.uweight != s.uweight()) be.set_server_uweight(s, l.uweight);
  } else {
    warnings.push_back("server-state: " + who + ": configured weight changed (" +
                       std::to_string(l.iweight) + " -> " + std::to_string(s.def().weight) +
                       "); the saved weight is not restored");
  }
  // The address set by `set server addr` (and its port).
  if (l.srv_addr != "-") {
    config::Address next = s.addr();
    const std::uint16_t port = l.port > 0 ? static_cast<std::uint16_t>(l.port) : next.port();
    if (!same_ip(next, l.srv_addr) || port != next.port()) {
      if (with_ip_port(next, l.srv_addr, port))
        s.set_addr(next);
      else
        warnings.push_back("server-state: " + who + ": invalid address '" + l.srv_addr + "'");
    }
  }
  // Operational state, only for a server whose health is checked (without
  // checks a server is always UP): a DOWN server stays DOWN until its check
  // passes `rise` times; an UP one starts UP, not re-probed.
  if (s.def().check) {
    auto& cv = s.check();
    if (l.op_state == 0) {
      be.set_server_down(s, nullptr);
      cv.health.store(0, std::memory_order_relaxed);
    } else if (l.op_state == 2 && s.up()) {
      cv.health.store(std::max(1U, s.def().rise) + std::max(1U, s.def().fall) - 1,
                      std::memory_order_relaxed);
    }
    cv.last_change_s.store(now - std::max<std::int64_t>(0, l.since_last_change),
                           std::memory_order_relaxed);
  }
}

std::string global_server_state_path(const config::Global& g) {
  if (g.server_state_file.empty()) return {};
  return join(g.server_state_base, g.server_state_file);
}

std::string server_state_path(const config::Global& g, const config::Proxy& p) {
  using L = config::Proxy::LoadState;
  if (p.load_server_state == L::Global) return global_server_state_path(g);
  if (p.load_server_state == L::Local)
    return join(g.server_state_base,
                p.server_state_file_name.empty() ? p.name : p.server_state_file_name);
  return {};
}

std::vector<std::string> load_server_states(const config::Global& g,
                                            const std::vector<proxy::Backend*>& backends) {
  std::vector<std::string> warnings;
  std::map<std::string, ServerStateFile> files;  // read once each
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  for (proxy::Backend* be : backends) {
    const config::Proxy& p = be->def();
    if (p.load_server_state == config::Proxy::LoadState::None) continue;
    const std::string path = server_state_path(g, p);
    if (path.empty()) {
      warnings.push_back("backend '" + p.name +
                         "': load-server-state-from-file global without a global "
                         "server-state-file; no state loaded");
      continue;
    }
    auto it = files.find(path);
    if (it == files.end()) {
      std::ifstream in(path, std::ios::binary);
      ServerStateFile f;
      if (!in) {
        warnings.push_back(
            std::string("Can't open ") +
            (p.load_server_state == config::Proxy::LoadState::Global ? "global " : "") +
            "server state file '" + path + "': " + std::strerror(errno));
      } else {
        std::ostringstream ss;
        ss << in.rdbuf();
        f = parse_server_state_file(ss.str(), path);
      }
      for (auto& w : f.warnings) warnings.push_back(std::move(w));
      f.warnings.clear();
      it = files.emplace(path, std::move(f)).first;
    }
    for (const ServerStateLine& l : it->second.lines) {
      if (l.be_name != p.name) continue;
      if (l.bk_forced_id && l.be_id != p.id) {
        warnings.push_back("server-state: backend '" + p.name + "': id " + std::to_string(l.be_id) +
                           " in the file, " + std::to_string(p.id) +
                           " in the configuration; line skipped");
        continue;
      }
      proxy::Server* found = nullptr;
      for (auto& s : be->servers())
        if (!s->removed() && s->name() == l.srv_name) found = s.get();
      if (!found) continue;  // a server no longer configured: nothing to do
      apply_server_state(*be, *found, l, now, warnings);
    }
  }
  return warnings;
}

}  // namespace sluice::runtime
