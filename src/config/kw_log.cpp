// `log` in global and proxy sections: syslog targets, `log global`, `no log`.

#include <array>
#include <vector>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config {
namespace {

constexpr std::array<std::string_view, 24> kFacilities = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
constexpr std::array<std::string_view, 8> kLevels = {"emerg",   "alert",  "crit", "err",
                                                     "warning", "notice", "info", "debug"};

template <std::size_t N>
int index_of(const std::array<std::string_view, N>& names, std::string_view w) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == w) return static_cast<int>(i);
  return -1;
}

template <std::size_t N>
std::vector<std::string_view> as_vector(const std::array<std::string_view, N>& a) {
  return {a.begin(), a.end()};
}

Result<LogTarget> parse_target(Parser& p, const Args& a) {
  LogTarget t;
  t.loc = p.loc();
  const std::string& where = a[0];
  if (where == "stdout" || where == "fd@1") {
    t.kind = LogTarget::Kind::Stdout;
    t.format = LogFormat::Raw;
  } else if (where == "stderr" || where == "fd@2") {
    t.kind = LogTarget::Kind::Stderr;
    t.format = LogFormat::Raw;
  } else if (where.rfind("ring@", 0) == 0 || where.rfind("tcp@", 0) == 0 ||
             where.rfind("fd@", 0) == 0) {
    return make_error("log target " + quote(where) + " is not implemented yet in Sluice");
  } else {
    auto r = parse_address(where, AddrUse::Log, p.addr_opts());
    if (!r) return with_context("log target", r.error());
    t.addr = r->addr;
    t.kind = r->addr.is_unix() ? LogTarget::Kind::UnixDgram : LogTarget::Kind::Udp;
  }
  std::size_t i = 1;
  // Optional settings before the facility, in any order.
  while (i < a.size()) {
    const std::string& w = a[i];
    if (w == "len") {
      if (i + 1 >= a.size()) return make_error("'len' expects a length");
      auto v = parse_uint(a[i + 1], 80, 65535);
      if (!v) return with_context("len", v.error());
      t.max_length = *v;
      i += 2;
    } else if (w == "format") {
      if (i + 1 >= a.size()) return make_error("'format' expects a log format name");
      const std::string& f = a[i + 1];
      if (f == "rfc3164") t.format = LogFormat::Rfc3164;
      else if (f == "rfc5424") t.format = LogFormat::Rfc5424;
      else if (f == "raw") t.format = LogFormat::Raw;
      else if (f == "short") t.format = LogFormat::Short;
      else if (f == "timed") t.format = LogFormat::Timed;
      else if (f == "iso") t.format = LogFormat::Iso;
      else if (f == "priority") return make_error("log format 'priority' is not implemented yet in Sluice");
      else
        return make_error("unknown log format " + quote(f) +
                          did_you_mean(f, {"rfc3164", "rfc5424", "raw", "short", "timed", "iso"}));
      i += 2;
    } else if (w == "sample") {
      return make_error("log sampling ('sample') is not implemented yet in Sluice");
    } else {
      break;
    }
  }
  if (i >= a.size()) return make_error("missing syslog facility after " + quote(where) + " (e.g. local0)");
  int fac = index_of(kFacilities, a[i]);
  if (fac < 0)
    return make_error("unknown syslog facility " + quote(a[i]) +
                      did_you_mean(a[i], as_vector(kFacilities)));
  t.facility = fac;
  ++i;
  if (i < a.size()) {
    int lvl = index_of(kLevels, a[i]);
    if (lvl < 0)
      return make_error("unknown log level " + quote(a[i]) + did_you_mean(a[i], as_vector(kLevels)));
    t.max_level = lvl;
    ++i;
  }
  if (i < a.size()) {
    int lvl = index_of(kLevels, a[i]);
    if (lvl < 0)
      return make_error("unknown log level " + quote(a[i]) + did_you_mean(a[i], as_vector(kLevels)));
    t.min_level = lvl;
    ++i;
  }
  if (i < a.size()) return make_error("unexpected argument " + quote(a[i]) + " after the log levels");
  return t;
}

}  // namespace

namespace kw {

Result<void> log(Parser& p, const Stmt& st) {
  bool global_section = p.section() == kSecGlobal;
  std::vector<LogTarget>& logs = global_section ? p.global().logs : p.proxy().logs;
  if (st.negated) {
    if (auto r = want_args(st, 0, 0, "no argument after 'no log'"); !r) return r;
    logs.clear();
    return {};
  }
  if (st.args.empty()) return make_error("'log' expects 'global' or a target like 127.0.0.1 local0");
  if (st.args[0] == "global") {
    if (global_section) return make_error("'log global' is only valid in proxies");
    if (auto r = want_args(st, 1, 1, "nothing after 'global'"); !r) return r;
    for (LogTarget t : p.global().logs) {
      t.loc = p.loc();
      logs.push_back(std::move(t));
    }
    return {};
  }
  auto t = parse_target(p, st.args);
  if (!t) return Error{t.error()};
  logs.push_back(std::move(*t));
  return {};
}

}  // namespace kw
}  // namespace sluice::config
