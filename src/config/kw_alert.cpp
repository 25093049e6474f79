// `alert NAME if METRIC OP VALUE [over WINDOW] exec CMD | post URL` in a
// backend or listen: a threshold on the backend's own stats (stats/alerts.h).

#include <cstdlib>
#include <string>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

namespace {
bool column_word(std::string_view w) {
  if (w.empty()) return false;
  for (char c : w)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}
}  // namespace

Result<void> alert(Parser& p, const Stmt& st) {
  const char* shape = "'alert' expects NAME if METRIC OP VALUE [over WINDOW] exec CMD|post URL";
  if (st.args.size() < 7 || st.args[1] != "if") return make_error(shape);
  AlertDef a;
  a.loc = p.loc();
  a.name = st.args[0];
  for (const auto& other : p.proxy().alerts)
    if (other.name == a.name) return make_error("alert " + quote(a.name) + " is already defined");
  a.metric = st.args[2];
  std::string_view m = a.metric;
  auto inner = [&](std::string_view fn) -> bool {
    if (m.substr(0, fn.size() + 1) != std::string(fn) + "(" || m.back() != ')') return false;
    a.column = std::string(m.substr(fn.size() + 1, m.size() - fn.size() - 2));
    return true;
  };
  if (inner("rate")) {
    a.fn = AlertDef::Fn::Rate;
  } else if (inner("median")) {
    a.fn = AlertDef::Fn::Median;
    if (a.column != "check_duration")
      return make_error("'median(...)' supports check_duration only, got " + quote(a.metric));
  } else {
    a.column = a.metric;
  }
  if (!column_word(a.column)) return make_error("invalid metric " + quote(a.metric));
  a.op = st.args[3];
  if (a.op != ">" && a.op != ">=" && a.op != "<" && a.op != "<=" && a.op != "==" && a.op != "!=")
    return make_error("unknown operator " + quote(a.op) + " (expected >, >=, <, <=, == or !=)");
  {
    const std::string& v = st.args[4];
    char* end = nullptr;
    a.threshold = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') return make_error("invalid threshold " + quote(v));
  }
  std::size_t i = 5;
  if (st.args[i] == "over") {
    if (i + 1 >= st.args.size()) return make_error("'over' expects a time");
    auto t = parse_time(st.args[i + 1]);
    if (!t) return make_error(t.error());
    if (t->count() < 1000) return make_error("'over' must be at least 1s");
    a.window = *t;
    i += 2;
  }
  if (i + 2 != st.args.size()) return make_error(shape);
  if (st.args[i] == "exec") {
    a.action = AlertDef::Action::Exec;
  } else if (st.args[i] == "post") {
    a.action = AlertDef::Action::Post;
    if (st.args[i + 1].rfind("http://", 0) != 0)
      return make_error("'post' expects an http:// URL, got " + quote(st.args[i + 1]));
  } else {
    return make_error("unknown alert action " + quote(st.args[i]) + " (expected exec or post)");
  }
  a.target = st.args[i + 1];
  p.proxy().alerts.push_back(std::move(a));
  return {};
}

}  // namespace sluice::config::kw
