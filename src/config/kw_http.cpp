// Handlers of the HTTP-mode proxy keywords: connection modes, forwardfor,
// cookie persistence and http-reuse.

#include <arpa/inet.h>

#include <cstring>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

// `option http-keep-alive|http-server-close|httpclose` (and the legacy
// `forceclose`, translated to httpclose): the last one wins; "no option X"
// goes back to keep-alive when X is the current mode.
Result<void> opt_http_conn_mode(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
  Proxy& px = p.proxy();
  HttpConnMode m = HttpConnMode::KeepAlive;
  if (st.keyword == "httpclose") m = HttpConnMode::Close;
  else if (st.keyword == "http-server-close") m = HttpConnMode::ServerClose;
  if (st.negated) {
    if (px.http_conn_mode == m) px.http_conn_mode = HttpConnMode::KeepAlive;
    return {};
  }
  px.http_conn_mode = m;
  return {};
}

namespace {
Result<void> parse_net(std::string_view text, ForwardFor& ff) {
  std::string addr(text);
  unsigned prefix = 0;
  bool has_prefix = false;
  if (auto slash = addr.find('/'); slash != std::string::npos) {
    auto pr = parse_uint(std::string_view(addr).substr(slash + 1), 0, 128);
    if (!pr) return make_error("invalid network mask in " + quote(text));
    prefix = *pr;
    has_prefix = true;
    addr.resize(slash);
  }
  if (::inet_pton(AF_INET, addr.c_str(), ff.except_addr) == 1) {
    ff.except_family = AF_INET;
    if (!has_prefix) prefix = 32;
    if (prefix > 32) return make_error("invalid IPv4 mask in " + quote(text));
  } else if (::inet_pton(AF_INET6, addr.c_str(), ff.except_addr) == 1) {
    ff.except_family = AF_INET6;
    if (!has_prefix) prefix = 128;
  } else {
    return make_error("invalid network " + quote(text) + " after 'except'");
  }
  ff.except_prefix = prefix;
  ff.has_except = true;
  return {};
}
}  // namespace

Result<void> opt_forwardfor(Parser& p, const Stmt& st) {
  ForwardFor ff;
  ff.enabled = !st.negated;
  for (std::size_t i = 0; i < st.args.size(); ++i) {
    const std::string& w = st.args[i];
    if (w == "except" && i + 1 < st.args.size()) {
      if (auto r = parse_net(st.args[++i], ff); !r) return r;
    } else if (w == "header" && i + 1 < st.args.size()) {
      ff.header = st.args[++i];
      if (ff.header.empty()) return make_error("'header' expects a header name");
    } else if (w == "if-none") {
      ff.if_none = true;
    } else {
      return make_error("'option forwardfor' expects 'except NET', 'header NAME' or 'if-none', got " +
                        quote(w));
    }
  }
  p.proxy().forwardfor = std::move(ff);
  return {};
}

// `option originalto [except NET] [header NAME]`.
Result<void> opt_originalto(Parser& p, const Stmt& st) {
  ForwardFor ot;
  ot.header = "X-Original-To";
  ot.enabled = !st.negated;
  for (std::size_t i = 0; i < st.args.size(); ++i) {
    const std::string& w = st.args[i];
    if (w == "except" && i + 1 < st.args.size()) {
      if (auto r = parse_net(st.args[++i], ot); !r) return r;
    } else if (w == "header" && i + 1 < st.args.size()) {
      ot.header = st.args[++i];
      if (ot.header.empty()) return make_error("'header' expects a header name");
    } else {
      return make_error("'option originalto' expects 'except NET' or 'header NAME', got " +
                        quote(w));
    }
  }
  p.proxy().originalto = std::move(ot);
  return {};
}

Result<void> cookie(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'cookie' expects a cookie name");
  CookieDef c;
  c.name = st.args[0];
  c.loc = p.loc();
  bool method_set = false;
  for (std::size_t i = 1; i < st.args.size(); ++i) {
    const std::string& w = st.args[i];
    auto set_method = [&](CookieDef::Method m) -> Result<void> {
      if (method_set && c.method != m)
        return make_error("'cookie' takes only one of 'rewrite', 'insert' and 'prefix'");
      c.method = m;
      method_set = true;
      return {};
    };
    Result<void> r;
    if (w == "insert") r = set_method(CookieDef::Method::Insert);
    else if (w == "rewrite") r = set_method(CookieDef::Method::Rewrite);
    else if (w == "prefix") r = set_method(CookieDef::Method::Prefix);
    else if (w == "indirect") c.indirect = true;
    else if (w == "nocache") c.nocache = true;
    else if (w == "postonly") c.postonly = true;
    else if (w == "preserve") c.preserve = true;
    else if (w == "httponly") c.httponly = true;
    else if (w == "secure") c.secure = true;
    else if ((w == "domain" || w == "maxidle" || w == "maxlife") && i + 1 >= st.args.size())
      return make_error("'cookie' option " + quote(w) + " expects a value");
    else if (w == "domain") c.domains.push_back(st.args[++i]);
    else if (w == "maxidle" || w == "maxlife") {
      // Seconds unless a unit is given.
      std::string t = st.args[++i];
      if (!t.empty() && t.find_first_not_of("0123456789") == std::string::npos) t += "s";
      auto v = parse_time(t);
      if (!v) return make_error("'cookie' option " + quote(w) + ": " + v.error());
      if (v->count() < 1000)
        return make_error("'cookie' option " + quote(w) + " expects at least one second");
      (w == "maxidle" ? c.maxidle : c.maxlife) = *v;
    } else if (w == "dynamic") {
      c.dynamic = true;
    } else if (w == "attr") {
      if (i + 1 >= st.args.size()) return make_error("'cookie' option 'attr' expects a value");
      const std::string& v = st.args[++i];
      // It ends up inside the Set-Cookie header: no ';' (a new attribute) nor control bytes.
      for (unsigned char ch : v)
        if (ch < 0x20 || ch == 0x7f || ch == ';')
          return make_error("'cookie' option 'attr': the value " + quote(v) +
                            " must not contain ';' or control characters");
      c.attrs.push_back(v);
    } else
      return make_error("unknown 'cookie' option " + quote(w) +
                        did_you_mean(w, {"insert", "rewrite", "prefix", "indirect", "nocache",
                                         "postonly", "preserve", "httponly", "secure", "domain",
                                         "maxidle", "maxlife", "dynamic", "attr"}));
    if (!r) return r;
  }
  if ((c.maxidle || c.maxlife) && c.method != CookieDef::Method::Insert)
    return make_error("'cookie' options 'maxidle' and 'maxlife' work only with 'insert'");
  if (c.preserve && c.method != CookieDef::Method::Insert && !c.indirect)
    return make_error("'cookie' option 'preserve' needs 'insert' or 'indirect'");
  p.proxy().cookie = std::move(c);
  return {};
}

Result<void> dynamic_cookie_key(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a secret key"); !r) return r;
  p.proxy().dynamic_cookie_key = st.args[0];
  return {};
}

Result<void> http_reuse(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "never|safe|aggressive|always"); !r) return r;
  const std::string& w = st.args[0];
  HttpReuse& h = p.proxy().http_reuse;
  if (w == "never") h = HttpReuse::Never;
  else if (w == "safe") h = HttpReuse::Safe;
  else if (w == "aggressive") h = HttpReuse::Aggressive;
  else if (w == "always") h = HttpReuse::Always;
  else
    return make_error("unknown 'http-reuse' mode " + quote(w) +
                      did_you_mean(w, {"never", "safe", "aggressive", "always"}));
  return {};
}

}  // namespace sluice::config::kw
