// Handlers of proxy keywords (defaults, frontend, backend, listen) and options.

#include <algorithm>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

Result<void> mode(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "'tcp' or 'http'"); !r) return r;
  const std::string& m = st.args[0];
  if (m == "tcp") {
    p.proxy().mode = Mode::Tcp;
    return {};
  }
  if (m == "http") {
    p.proxy().mode = Mode::Http;
    return {};
  }
  if (m == "health") return make_error("'mode health' was removed from HAProxy; use 'monitor-uri'");
  return make_error("unknown mode " + quote(m) + " (expected 'tcp' or 'http')" +
                    did_you_mean(m, {"tcp", "http"}));
}

Result<void> default_backend(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a backend name"); !r) return r;
  p.proxy().default_backend = st.args[0];
  p.draft().default_backend_loc = p.loc();
  return {};
}

Result<void> timeout(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a time like 5s"); !r) return r;
  auto v = parse_time(st.args[0]);
  if (!v) return Error{v.error()};
  Timeouts& t = p.proxy().timeouts;
  std::string_view which = st.keyword.substr(st.keyword.find(' ') + 1);
  if (which == "connect") t.connect = *v;
  else if (which == "client") t.client = *v;
  else if (which == "server") t.server = *v;
  else if (which == "queue") t.queue = *v;
  else if (which == "tunnel") t.tunnel = *v;
  else if (which == "client-fin") t.client_fin = *v;
  else if (which == "server-fin") t.server_fin = *v;
  else if (which == "check") t.check = *v;
  else if (which == "http-request") t.http_request = *v;
  else if (which == "http-keep-alive") t.http_keep_alive = *v;
  else if (which == "tarpit") t.tarpit = *v;
  else return make_error("not implemented yet in Sluice");
  return {};
}

Result<void> balance(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'balance' expects an algorithm like roundrobin");
  const std::string& a = st.args[0];
  Balance& b = p.proxy().balance;
  Balance nb = b;  // keeps hash-type settings
  nb.args.clear();
  nb.key_name.clear();
  nb.uri_len = nb.uri_depth = 0;
  nb.uri_whole = nb.uri_path_only = nb.check_post = nb.use_domain_only = false;
  std::size_t used = 1;
  if (a == "roundrobin") nb.algo = BalanceAlgo::RoundRobin;
  else if (a == "static-rr") nb.algo = BalanceAlgo::StaticRr;
  else if (a == "leastconn") nb.algo = BalanceAlgo::LeastConn;
  else if (a == "first") nb.algo = BalanceAlgo::First;
  else if (a == "source") nb.algo = BalanceAlgo::Source;
  else if (a == "uri") {
    nb.algo = BalanceAlgo::Uri;
    for (; used < st.args.size(); ++used) {
      const std::string& w = st.args[used];
      if ((w == "len" || w == "depth") && used + 1 < st.args.size()) {
        auto v = parse_uint(st.args[++used], 1, 1U << 30);
        if (!v) return make_error("'balance uri " + w + "' expects a positive number, got " +
                                  quote(st.args[used]));
        (w == "len" ? nb.uri_len : nb.uri_depth) = *v;
      } else if (w == "len" || w == "depth") {
        return make_error("'balance uri " + w + "' expects a positive number");
      } else if (w == "whole") {
        nb.uri_whole = true;
      } else if (w == "path-only") {
        nb.uri_path_only = true;
      } else {
        return make_error("unknown 'balance uri' option " + quote(w) +
                          did_you_mean(w, {"len", "depth", "whole", "path-only"}));
      }
    }
  } else if (a == "url_param") {
    nb.algo = BalanceAlgo::UrlParam;
    if (st.args.size() < 2 || st.args[1].empty())
      return make_error("'balance url_param' expects a parameter name");
    nb.key_name = st.args[1];
    used = 2;
    if (used < st.args.size() && st.args[used] == "check_post") {
      nb.check_post = true;
      ++used;
      // A former <max_wait> argument, ignored by HAProxy too.
      if (used < st.args.size() && parse_uint(st.args[used], 0, 1U << 30)) ++used;
    }
  } else if (a.rfind("hdr(", 0) == 0) {
    nb.algo = BalanceAlgo::Hdr;
    if (a.back() != ')' || a.size() <= 5)
      return make_error("'balance hdr(NAME)' expects a header name in parentheses, got " +
                        quote(a));
    nb.key_name = a.substr(4, a.size() - 5);
    if (used < st.args.size() && st.args[used] == "use_domain_only") {
      nb.use_domain_only = true;
      ++used;
    }
  } else if (a == "random" || a.rfind("random(", 0) == 0) {
    nb.algo = BalanceAlgo::Random;
    if (a != "random") {
      if (a.back() != ')')
        return make_error("'balance random(N)' expects a number of draws in parentheses");
      auto v = parse_uint(std::string_view(a).substr(7, a.size() - 8), 1, 1000);
      if (!v) return make_error("'balance random(N)' expects a number of draws of 1 or more, got " +
                                quote(a));
      nb.args.push_back(std::to_string(*v));
    }
  } else if (a == "rdp-cookie" || a.rfind("rdp-cookie(", 0) == 0 || a == "hash")
    return make_error("balance algorithm " + quote(a) + " is not implemented yet in Sluice");
  else
    return make_error("unknown balance algorithm " + quote(a) +
                      did_you_mean(a, {"roundrobin", "static-rr", "leastconn", "first", "source",
                                       "uri", "url_param", "random", "rdp-cookie", "hash"}));
  if (used < st.args.size())
    return make_error("unexpected argument " + quote(st.args[used]) + " after 'balance " + a + "'");
  nb.explicit_set = true;
  b = std::move(nb);
  return {};
}

Result<void> hash_type(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 3, "map-based|consistent [sdbm|djb2|wt6|crc32|none] [avalanche]"); !r)
    return r;
  Balance& b = p.proxy().balance;
  const std::string& m = st.args[0];
  if (m == "map-based") b.hash_type = HashType::MapBased;
  else if (m == "consistent") b.hash_type = HashType::Consistent;
  else
    return make_error("unknown hash method " + quote(m) + " (expected map-based or consistent)" +
                      did_you_mean(m, {"map-based", "consistent"}));
  b.hash_function = HashFunction::Sdbm;
  // Consistent hashing with no function named is sdbm with avalanche (manual).
  b.avalanche = b.hash_type == HashType::Consistent && st.args.size() == 1;
  for (std::size_t i = 1; i < st.args.size(); ++i) {
    const std::string& w = st.args[i];
    if (i == 1 && w == "sdbm") b.hash_function = HashFunction::Sdbm;
    else if (i == 1 && w == "djb2") b.hash_function = HashFunction::Djb2;
    else if (i == 1 && w == "wt6") b.hash_function = HashFunction::Wt6;
    else if (i == 1 && w == "crc32") b.hash_function = HashFunction::Crc32;
    else if (i == 1 && w == "none") b.hash_function = HashFunction::None;
    else if (w == "avalanche") b.avalanche = true;
    else
      return make_error("unexpected " + quote(w) +
                        " (expected a hash function sdbm, djb2, wt6, crc32 or none, then "
                        "'avalanche')");
  }
  return {};
}

Result<void> hash_balance_factor(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a percentage above 100, or 0"); !r) return r;
  auto v = parse_uint(st.args[0], 0, 65535);
  if (!v || (*v != 0 && *v <= 100))
    return make_error("'hash-balance-factor' expects 0 (off) or a percentage above 100, got " +
                      quote(st.args[0]));
  p.proxy().balance.hash_balance_factor = *v;
  return {};
}

Result<void> retries(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a number"); !r) return r;
  auto v = parse_uint(st.args[0], 0, 1000);
  if (!v) return Error{v.error()};
  p.proxy().retries = *v;
  return {};
}

Result<void> source(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'source' expects an address like 10.0.0.1[:port]");
  if (st.args.size() > 1) {
    const std::string& w = st.args[1];
    if (w == "usesrc" || w == "interface")
      return make_error("'source ... " + w + "' is not implemented yet in Sluice");
    return make_error("unexpected argument " + quote(w) + " after the source address");
  }
  auto a = parse_address(st.args[0], AddrUse::Source, p.addr_opts());
  if (!a) return Error{a.error()};
  p.proxy().source = a->addr;
  return {};
}

Result<void> proxy_maxconn(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a number"); !r) return r;
  auto v = parse_uint(st.args[0]);
  if (!v) return Error{v.error()};
  p.proxy().maxconn = *v;
  return {};
}

Result<void> fullconn(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a number"); !r) return r;
  auto v = parse_uint(st.args[0]);
  if (!v) return Error{v.error()};
  p.proxy().fullconn = *v;
  return {};
}

Result<void> backlog(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a number"); !r) return r;
  auto v = parse_uint(st.args[0]);
  if (!v) return Error{v.error()};
  p.proxy().backlog = *v;
  return {};
}

Result<void> disabled(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
  p.proxy().disabled = true;
  return {};
}

Result<void> enabled(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
  p.proxy().disabled = false;
  return {};
}

Result<void> id(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a positive number"); !r) return r;
  auto v = parse_uint(st.args[0], 1, 0x7FFFFFFF);
  if (!v) return Error{v.error()};
  p.proxy().id = static_cast<int>(*v);
  return {};
}

Result<void> description(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'description' expects some text");
  std::string text;
  for (std::size_t i = 0; i < st.args.size(); ++i) {
    if (i) text += ' ';
    text += st.args[i];
  }
  p.proxy().description = std::move(text);
  return {};
}

Result<void> opt_redispatch(Parser& p, const Stmt& st) {
  Proxy& px = p.proxy();
  if (st.negated) {
    if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
    px.redispatch = false;
    return {};
  }
  if (auto r = want_args(st, 0, 1, "an optional retry interval"); !r) return r;
  int interval = -1;  // HAProxy's default: redispatch on the last retry
  if (st.args.size() == 1) {
    auto v = parse_int(st.args[0], -1000, 1000);
    if (!v) return Error{v.error()};
    if (*v == 0) {
      px.redispatch = false;  // an interval of 0 disables redispatching
      return {};
    }
    interval = *v;
  }
  px.redispatch = true;
  px.redispatch_interval = interval;
  return {};
}

Result<void> opt_flag(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
  Proxy& px = p.proxy();
  bool on = !st.negated;
  std::string_view n = st.keyword;
  if (n == "allbackups") px.allbackups = on;
  else if (n == "tcpka") px.clitcpka = px.srvtcpka = on;
  else if (n == "clitcpka") px.clitcpka = on;
  else if (n == "srvtcpka") px.srvtcpka = on;
  else if (n == "tcplog" || n == "httplog") {
    (n == "tcplog" ? px.tcplog : px.httplog) = on;
    // Each names a built-in log format: the last of these and `log-format` wins.
    if (on) px.log_format.clear();
  } else if (n == "dontlognull")
    px.dontlognull = on;
  else if (n == "log-separate-errors") px.log_separate_errors = on;
  else if (n == "splice-request") px.splice_request = on;
  else if (n == "splice-response") px.splice_response = on;
  else if (n == "splice-auto") px.splice_auto = on;
  else return make_error("not implemented yet in Sluice");
  return {};
}

}  // namespace sluice::config::kw

// ------------------------------------------------------------ health checks

namespace sluice::config::kw {

namespace {
HealthCheckDef::Type check_type_of(std::string_view opt) {
  using T = HealthCheckDef::Type;
  if (opt == "httpchk") return T::HttpChk;
  if (opt == "mysql-check") return T::Mysql;
  if (opt == "pgsql-check") return T::Pgsql;
  if (opt == "redis-check") return T::Redis;
  if (opt == "smtpchk") return T::Smtp;
  if (opt == "ssl-hello-chk") return T::SslHello;
  if (opt == "ldap-check") return T::Ldap;
  if (opt == "tcp-check") return T::TcpCheck;
  return T::Tcp;
}
}  // namespace

// `option httpchk|mysql-check|pgsql-check|redis-check|smtpchk|ssl-hello-chk|
// ldap-check|tcp-check`: the last one written wins, as in HAProxy.
Result<void> opt_check(Parser& p, const Stmt& st) {
  HealthCheckDef& hc = p.proxy().health_check;
  using T = HealthCheckDef::Type;
  if (st.negated) {
    if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
    hc.type = T::Tcp;
    hc.args.clear();
    return {};
  }
  T t = check_type_of(st.keyword);
  const Args& a = st.args;
  switch (t) {
    case T::HttpChk:
      if (auto r = want_args(st, 0, 4, "[METHOD] [URI] [VERSION [HOST]]"); !r) return r;
      if (a.size() >= 3 && a[2].find("\r\n") != std::string::npos)
        p.warn("option httpchk",
               "headers after the HTTP version are a legacy form; use 'http-check send hdr "
               "NAME VALUE' instead (translated)");
      break;
    case T::Mysql:
      if (!a.empty()) {
        if (a[0] != "user" || a.size() < 2)
          return make_error("'option mysql-check' expects [user NAME [post-41|pre-41|post-80]]");
        if (a.size() > 3)
          return make_error("unexpected argument " + quote(a[3]) + " after the mysql-check user");
        if (a.size() == 3 && a[2] != "post-41" && a[2] != "pre-41" && a[2] != "post-80")
          return make_error("unknown mysql-check client version " + quote(a[2]) +
                            " (expected post-41, pre-41 or post-80)" +
                            did_you_mean(a[2], {"post-41", "pre-41", "post-80"}));
      }
      break;
    case T::Pgsql:
      if (a.size() != 2 || a[0] != "user")
        return make_error("'option pgsql-check' expects 'user NAME'");
      break;
    case T::Smtp:
      if (a.size() == 1 || a.size() > 2)
        return make_error("'option smtpchk' expects nothing or 'HELO|EHLO DOMAIN'");
      break;
    default:
      if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
  }
  hc.type = t;
  hc.args.clear();
  for (std::size_t i = 0; i < a.size(); ++i) hc.args.push_back(a[i]);
  hc.loc = p.loc();
  return {};
}

namespace {
// Options of `tcp-check|http-check expect`: [min-recv N] [error-status S]
// [ok-status S] ... [!] MATCH PATTERN. Only the match is kept.
Result<CheckRule> parse_expect(const Args& a, bool http) {
  CheckRule r;
  r.kind = CheckRule::Kind::Expect;
  std::size_t i = 0;
  static const std::vector<std::string_view> opts = {"min-recv", "error-status", "ok-status",
                                                     "tout-status", "on-success", "on-error",
                                                     "status-code", "comment"};
  while (i < a.size() && std::find(opts.begin(), opts.end(), a[i]) != opts.end()) {
    if (i + 1 >= a.size()) return make_error(quote(a[i]) + " expects a value");
    r.args.push_back(a[i]);
    r.args.push_back(a[i + 1]);
    i += 2;
  }
  if (i < a.size() && a[i] == "!") {
    r.negate = true;
    ++i;
  }
  std::vector<std::string_view> matches =
      http ? std::vector<std::string_view>{"status", "rstatus", "string", "rstring"}
           : std::vector<std::string_view>{"string", "rstring", "binary", "rbinary"};
  if (i >= a.size()) return make_error("'expect' needs a match like 'string TEXT'");
  if (std::find(matches.begin(), matches.end(), a[i]) == matches.end())
    return make_error("unknown expect match " + quote(a[i]) + did_you_mean(a[i], matches));
  r.match = a[i++];
  if (i >= a.size()) return make_error("'expect " + r.match + "' expects a pattern");
  r.pattern = a[i++];
  if (i < a.size()) return make_error("unexpected argument " + quote(a[i]) + " after the pattern");
  return r;
}
}  // namespace

Result<void> tcp_check(Parser& p, const Stmt& st) {
  HealthCheckDef& hc = p.proxy().health_check;
  std::string_view which = st.keyword.substr(st.keyword.find(' ') + 1);
  CheckRule r;
  r.loc = p.loc();
  if (which == "comment") return {};
  if (which == "connect") {
    r.kind = CheckRule::Kind::Connect;
    for (std::size_t i = 0; i < st.args.size(); ++i) {
      const std::string& w = st.args[i];
      if (w == "port" || w == "addr" || w == "comment") {
        if (i + 1 >= st.args.size()) return make_error(quote(w) + " expects a value");
        r.args.push_back(w);
        r.args.push_back(st.args[++i]);
      } else if (w == "default" || w == "linger") {
        r.args.push_back(w);
      } else {
        return make_error("'tcp-check connect' option " + quote(w) +
                          " is not implemented yet in Sluice");
      }
    }
  } else if (which == "send" || which == "send-binary") {
    if (auto e = want_args(st, 1, 1, which == "send" ? "a string" : "hex digits"); !e) return e;
    r.kind = which == "send" ? CheckRule::Kind::Send : CheckRule::Kind::SendBinary;
    r.pattern = st.args[0];
    if (r.kind == CheckRule::Kind::SendBinary &&
        (r.pattern.size() % 2 != 0 ||
         r.pattern.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
      return make_error("'tcp-check send-binary' expects an even number of hex digits");
  } else if (which == "expect") {
    auto e = parse_expect(st.args, false);
    if (!e) return Error{e.error()};
    r = *e;
    r.loc = p.loc();
    if (r.match == "binary" &&
        (r.pattern.size() % 2 != 0 ||
         r.pattern.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
      return make_error("'expect binary' expects an even number of hex digits");
  } else {
    return make_error("not implemented yet in Sluice");
  }
  hc.tcp_rules.push_back(std::move(r));
  return {};
}

Result<void> http_check(Parser& p, const Stmt& st) {
  HealthCheckDef& hc = p.proxy().health_check;
  std::string_view which = st.keyword.substr(st.keyword.find(' ') + 1);
  CheckRule r;
  r.loc = p.loc();
  if (which == "comment") return {};
  if (which == "disable-on-404") {
    if (auto e = want_args(st, 0, 0, "no argument"); !e) return e;
    hc.disable_on_404 = true;
    return {};
  }
  if (which == "send-state") {
    if (auto e = want_args(st, 0, 0, "no argument"); !e) return e;
    hc.send_state = true;
    return {};
  }
  if (which == "send") {
    r.kind = CheckRule::Kind::Send;
    for (std::size_t i = 0; i < st.args.size(); ++i) {
      const std::string& w = st.args[i];
      std::size_t need = w == "hdr" ? 2 : 1;
      if (w != "meth" && w != "uri" && w != "ver" && w != "hdr" && w != "body" && w != "comment")
        return make_error("unknown 'http-check send' option " + quote(w) +
                          did_you_mean(w, {"meth", "uri", "ver", "hdr", "body"}));
      if (i + need >= st.args.size()) return make_error(quote(w) + " expects a value");
      r.args.push_back(w);
      for (std::size_t k = 0; k < need; ++k) r.args.push_back(st.args[i + 1 + k]);
      i += need;
    }
  } else if (which == "expect") {
    auto e = parse_expect(st.args, true);
    if (!e) return Error{e.error()};
    r = *e;
    r.loc = p.loc();
  } else if (which == "connect") {
    r.kind = CheckRule::Kind::Connect;
    for (std::size_t i = 0; i < st.args.size(); ++i) {
      const std::string& w = st.args[i];
      if (w == "port" || w == "addr") {
        if (i + 1 >= st.args.size()) return make_error(quote(w) + " expects a value");
        r.args.push_back(w);
        r.args.push_back(st.args[++i]);
      } else if (w != "default" && w != "linger") {
        return make_error("'http-check connect' option " + quote(w) +
                          " is not implemented yet in Sluice");
      }
    }
  } else {
    return make_error("not implemented yet in Sluice");
  }
  hc.http_rules.push_back(std::move(r));
  return {};
}

}  // namespace sluice::config::kw
