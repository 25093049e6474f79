// Handlers of proxy keywords (defaults, frontend, backend, listen) and options.

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
    p.proxy().mode = Mode::Http;  // recorded so validation sees consistent modes
    return make_error("'mode http' is not implemented yet in Sluice");
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
  else return make_error("not implemented yet in Sluice");
  return {};
}

Result<void> balance(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'balance' expects an algorithm like roundrobin");
  const std::string& a = st.args[0];
  Balance& b = p.proxy().balance;
  BalanceAlgo algo;
  if (a == "roundrobin") algo = BalanceAlgo::RoundRobin;
  else if (a == "static-rr") algo = BalanceAlgo::StaticRr;
  else if (a == "leastconn") algo = BalanceAlgo::LeastConn;
  else if (a == "first") algo = BalanceAlgo::First;
  else if (a == "source") algo = BalanceAlgo::Source;
  else if (a == "uri" || a == "url_param" || a.rfind("hdr(", 0) == 0 || a == "random" ||
           a.rfind("random(", 0) == 0 || a == "rdp-cookie" || a.rfind("rdp-cookie(", 0) == 0 ||
           a == "hash")
    return make_error("balance algorithm " + quote(a) + " is not implemented yet in Sluice");
  else
    return make_error("unknown balance algorithm " + quote(a) +
                      did_you_mean(a, {"roundrobin", "static-rr", "leastconn", "first", "source",
                                       "uri", "url_param", "random", "rdp-cookie", "hash"}));
  if (st.args.size() > 1)
    return make_error("unexpected argument " + quote(st.args[1]) + " after 'balance " + a + "'");
  b.algo = algo;
  b.args.clear();
  b.explicit_set = true;
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
  b.avalanche = false;
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
  else if (n == "tcplog") px.tcplog = on;
  else if (n == "dontlognull") px.dontlognull = on;
  else if (n == "splice-request") px.splice_request = on;
  else if (n == "splice-response") px.splice_response = on;
  else if (n == "splice-auto") px.splice_auto = on;
  else return make_error("not implemented yet in Sluice");
  return {};
}

}  // namespace sluice::config::kw
