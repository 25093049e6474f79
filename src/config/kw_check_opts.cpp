// `option check-duration-alert MEDIAN_MS [window N]` (Sluice's own): warn
// once when a server's moving median check duration passes MEDIAN_MS, and
// once when it is back under (proxy::Backend::on_check_result).

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

Result<void> opt_check_duration_alert(Parser& p, const Stmt& st) {
  Proxy& px = p.proxy();
  if (st.negated) {
    if (auto r = want_args(st, 0, 0, "no argument"); !r) return r;
    px.check_duration_alert.reset();
    return {};
  }
  if (auto r = want_args(st, 1, 3, "MEDIAN_MS [window N]"); !r) return r;
  Proxy::CheckDurationAlert a;
  auto t = parse_time(st.args[0]);
  if (!t) return with_context("check-duration-alert", t.error());
  if (t->count() == 0) return make_error("check-duration-alert: the threshold must be above 0");
  a.threshold = *t;
  if (st.args.size() > 1) {
    if (st.args[1] != "window" || st.args.size() != 3)
      return make_error("check-duration-alert: expects 'window N' after the threshold, got '" +
                        std::string(st.args[1]) + "'");
    auto n = parse_uint(st.args[2], 1, 1000);
    if (!n) return with_context("check-duration-alert window", n.error());
    a.window = *n;
  }
  px.check_duration_alert = a;
  return {};
}

}  // namespace sluice::config::kw
