// The stats page keywords of proxies: `stats enable|uri|refresh|auth|realm|
// admin|hide-version|show-legends|scope`. As in HAProxy, each of them
// except `admin` also enables the page.

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

Result<void> stats_page(Parser& p, const Stmt& st) {
  StatsPage& s = p.proxy().stats_page;
  const std::string_view kw = st.keyword;
  if (kw == "stats admin") {
    if (p.in_defaults())
      return make_error("'stats admin' is not allowed in a 'defaults' section");
    if (st.args.empty() || (st.args[0] != "if" && st.args[0] != "unless"))
      return make_error("'stats admin' expects 'if' or 'unless' followed by a condition");
    auto c = parse_condition(p, st.args);
    if (!c) return Error{c.error()};
    c->loc = p.loc();
    s.admin.push_back(std::move(*c));
    return {};
  }
  if (kw == "stats enable" || kw == "stats hide-version" || kw == "stats show-legends") {
    if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
    if (kw == "stats hide-version") s.hide_version = true;
    if (kw == "stats show-legends") s.show_legends = true;
  } else if (kw == "stats uri") {
    if (auto r = want_args(st, 1, 1, "a URI prefix"); !r) return r;
    if (st.args[0].empty() || st.args[0][0] != '/')
      return make_error("'stats uri' expects a URI prefix starting with '/' (got " +
                        quote(st.args[0]) + ")");
    s.uri = st.args[0];
  } else if (kw == "stats refresh") {
    if (auto r = want_args(st, 1, 1, "a delay"); !r) return r;
    auto t = parse_time(st.args[0]);
    if (!t) return with_context("stats refresh", t.error());
    s.refresh_s = static_cast<unsigned>((t->count() + 999) / 1000);
  } else if (kw == "stats auth") {
    if (auto r = want_args(st, 1, 1, "user:password"); !r) return r;
    const std::string& a = st.args[0];
    const auto colon = a.find(':');
    if (colon == std::string::npos || colon == 0)
      return make_error("'stats auth' expects user:password (got " + quote(a) + ")");
    s.auth.push_back(a);
  } else if (kw == "stats realm") {
    if (auto r = want_args(st, 1, 1, "a realm (escape spaces with '\\')"); !r) return r;
    s.realm = st.args[0];
  } else if (kw == "stats scope") {
    if (auto r = want_args(st, 1, 1, "a proxy name or '.'"); !r) return r;
    s.scope.push_back(st.args[0]);
  }
  s.enabled = true;
  return {};
}

}  // namespace sluice::config::kw
