// Handlers of the global `stats socket` and `stats timeout` keywords.

#include "config/address.h"
#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

Result<void> stats_socket(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'stats socket' expects a path or an address");
  StatsSocket s;
  s.loc = p.loc();
  auto a = parse_address(st.args[0], AddrUse::Bind, p.addr_opts());
  if (!a) return Error{a.error()};
  if (!a->addr.is_unix() && !a->has_port)
    return make_error("'stats socket' address " + quote(st.args[0]) + " needs a port");
  s.addr = a->addr;
  for (std::size_t i = 1; i < st.args.size(); ++i) {
    const std::string& w = st.args[i];
    auto next = [&]() -> Result<std::string> {
      if (i + 1 >= st.args.size()) return make_error(quote(w) + " expects an argument");
      return st.args[++i];
    };
    if (w == "level") {
      auto v = next();
      if (!v) return Error{v.error()};
      if (*v == "user")
        s.level = StatsSocket::Level::User;
      else if (*v == "operator")
        s.level = StatsSocket::Level::Operator;
      else if (*v == "admin")
        s.level = StatsSocket::Level::Admin;
      else
        return make_error("'level' only supports 'user', 'operator', and 'admin' (got " +
                          quote(*v) + ")");
    } else if (w == "mode") {
      auto v = next();
      if (!v) return Error{v.error()};
      auto m = parse_octal(*v);
      if (!m) return with_context("mode", m.error());
      s.unix_mode = *m;
    } else if (w == "user" || w == "group" || w == "uid" || w == "gid") {
      auto v = next();
      if (!v) return Error{v.error()};
      Result<unsigned> id = w == "user"    ? lookup_user(*v)
                            : w == "group" ? lookup_group(*v)
                                           : parse_uint(*v);
      if (!id) return with_context(w, id.error());
      (w == "user" || w == "uid" ? s.unix_uid : s.unix_gid) = *id;
    } else if (w == "expose-fd") {
      auto v = next();
      if (!v) return Error{v.error()};
      if (*v != "listeners") return make_error("'expose-fd' only supports 'listeners'");
      s.expose_fd_listeners = true;
    } else {
      return make_error("'stats socket' option " + quote(w) +
                        " is not supported (supported: level, mode, user, group, uid, gid, "
                        "expose-fd listeners)");
    }
  }
  p.global().stats_sockets.push_back(std::move(s));
  return {};
}

Result<void> stats_timeout(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a time"); !r) return r;
  auto t = parse_time(st.args[0]);
  if (!t) return with_context("stats timeout", t.error());
  if (t->count() <= 0) return make_error("'stats timeout' must be positive");
  p.global().stats_timeout = *t;
  return {};
}

}  // namespace sluice::config::kw
