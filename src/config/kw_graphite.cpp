// `graphite ADDR:PORT [interval T] [prefix P] [metrics all|NAME,...] [buffer N]`
// (global): push stats to a carbon server (stats/graphite.h does the work).

#include <string>

#include "config/address.h"
#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

namespace {
// Metric names are the `show stat` column names; checked here against the
// words HAProxy's CSV header uses (the stats area owns the table; config
// cannot depend on it, so only the shape is checked: lower case, digits, '_').
bool metric_word(std::string_view w) {
  if (w.empty()) return false;
  for (char c : w)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}
}  // namespace

Result<void> graphite(Parser& p, const Stmt& st) {
  if (st.args.empty())
    return make_error(
        "'graphite' expects ADDR:PORT [interval TIME] [prefix PATH] "
        "[metrics all|NAME,...] [buffer LINES]");
  if (p.global().graphite) return make_error("'graphite' is already set in this global section");
  GraphiteDef g;
  g.loc = p.loc();
  auto a = parse_address(st.args[0], AddrUse::Server, p.addr_opts());
  if (!a) return make_error(a.error());
  if (a->addr.is_unix() || a->addr.port() == 0)
    return make_error("'graphite' expects a carbon server as HOST:PORT, got " + quote(st.args[0]));
  g.addr = a->addr;
  for (std::size_t i = 1; i < st.args.size(); i += 2) {
    const std::string& opt = st.args[i];
    if (opt != "interval" && opt != "prefix" && opt != "metrics" && opt != "buffer")
      return make_error("unknown 'graphite' option " + quote(opt) +
                        " (expected interval, prefix, metrics or buffer)");
    if (i + 1 >= st.args.size()) return make_error(quote(opt) + " expects a value");
    const std::string& v = st.args[i + 1];
    if (opt == "interval") {
      auto t = parse_time(v);
      if (!t) return make_error(t.error());
      if (t->count() < 100) return make_error("'interval' must be at least 100ms, got " + quote(v));
      g.interval = *t;
    } else if (opt == "prefix") {
      if (v.find(' ') != std::string::npos) return make_error("'prefix' must not contain spaces");
      g.prefix = v;
    } else if (opt == "metrics") {
      g.metrics.clear();
      if (v == "all") continue;
      std::size_t from = 0;
      while (from <= v.size()) {
        std::size_t comma = v.find(',', from);
        if (comma == std::string::npos) comma = v.size();
        std::string m = v.substr(from, comma - from);
        if (!metric_word(m)) return make_error("invalid metric name " + quote(m) + " in 'metrics'");
        g.metrics.push_back(m);
        from = comma + 1;
      }
    } else {
      auto n = parse_uint(v, 1, 10000000);
      if (!n) return make_error("'buffer' " + n.error());
      g.buffer_lines = *n;
    }
  }
  p.global().graphite = std::move(g);
  return {};
}

}  // namespace sluice::config::kw
