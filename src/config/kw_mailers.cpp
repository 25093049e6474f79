// `mailers` sections (`mailer NAME ADDR:PORT`, `timeout mail`) and the
// `email-alert` keywords of proxies, as in HAProxy.

#include <string>

#include "config/address.h"
#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

Result<void> mailer(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 2, 2, "NAME ADDR:PORT"); !r) return r;
  auto& sec = p.mailers_section();
  for (const auto& m : sec.mailers)
    if (m.name == st.args[0])
      return make_error("mailer " + quote(st.args[0]) + " is already defined");
  auto a = parse_address(st.args[1], AddrUse::Server, p.addr_opts());
  if (!a) return make_error(a.error());
  if (a->addr.is_unix() || a->addr.port() == 0)
    return make_error("'mailer' expects ADDR:PORT, got " + quote(st.args[1]));
  sec.mailers.push_back({st.args[0], a->addr});
  return {};
}

Result<void> timeout_mail(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a time"); !r) return r;
  auto t = parse_time(st.args[0]);
  if (!t) return make_error(t.error());
  if (t->count() <= 0) return make_error("'timeout mail' must be positive");
  p.mailers_section().timeout = *t;
  return {};
}

Result<void> email_alert(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a value"); !r) return r;
  EmailAlert& e = p.proxy().email_alert;
  const std::string& v = st.args[0];
  std::string_view k = st.keyword.substr(std::string_view("email-alert ").size());
  if (k == "mailers")
    e.mailers = v;
  else if (k == "from")
    e.from = v;
  else if (k == "to")
    e.to = v;
  else if (k == "myhostname")
    e.myhostname = v;
  else {
    static constexpr std::string_view kLevels[] = {"emerg",   "alert",  "crit", "err",
                                                   "warning", "notice", "info", "debug"};
    int found = -1;
    for (int i = 0; i < 8; ++i)
      if (kLevels[i] == v) found = i;
    if (found < 0) return make_error("unknown log level " + quote(v));
    e.level = found;
  }
  e.loc = p.loc();
  return {};
}

}  // namespace sluice::config::kw
