// `http-request` / `http-response` rules, `log-format`, `capture request|
// response header`, and the legacy reqadd/rspadd/reqdel/rspdel family
// translated into rules. Everything is validated here, at load time, so a
// malformed rule is a FILE:LINE error (also under -c); the runtime compiles
// the validated rules (httpmode/rules.h).

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <fstream>
#include <sstream>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"
#include "log/logformat.h"

namespace sluice::config {
namespace {

using A = HttpRule::Action;

// Checks %[fetch] names and argument counts against the fetch table.
class ConfigBinder final : public log::FetchBinder {
 public:
  // Log lines are written after the transaction: its headers are gone.
  bool at_log_time = false;
  Result<std::shared_ptr<const log::FetchCall>> bind(
      std::string_view name, const std::vector<std::string>& args) override {
    const FetchKeyword* k = find_keyword(fetch_keywords(), name);
    if (k == nullptr) {
      std::vector<std::string_view> names;
      for (const auto& f : fetch_keywords()) names.push_back(f.name);
      return make_error("unknown sample fetch " + quote(name) + did_you_mean(name, names));
    }
    if (k->status != KwStatus::Implemented)
      return make_error("sample fetch " + quote(name) + " is not implemented yet in Sluice");
    if (at_log_time) {
      static constexpr std::array<std::string_view, 10> kNeedHeaders = {
          "hdr", "req.hdr", "res.hdr", "path", "url", "query", "url_param", "urlp", "cook",
          "req.cook"};
      for (auto prefix : kNeedHeaders) {
        if (name.substr(0, prefix.size()) == prefix || name == "res.cook")
          return make_error("sample fetch " + quote(name) +
                            " cannot be used in log-format: the HTTP headers it needs are no "
                            "longer available when the line is written");
      }
    }
    if (args.size() < k->min_args || args.size() > k->max_args)
      return make_error("sample fetch " + quote(name) + " expects " +
                        (k->args.empty() ? std::string("no argument") : std::string(k->args)));
    return std::shared_ptr<const log::FetchCall>();
  }
};

Result<void> check_log_format(std::string_view text, std::string_view what,
                              bool at_log_time = false) {
  ConfigBinder b;
  b.at_log_time = at_log_time;
  auto r = log::LogFormat::compile(text, &b);
  if (!r) return with_context(what, r.error());
  return {};
}

Result<void> check_regex(const std::string& re) {
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(), 0, &err,
                                   &off, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(err, msg, sizeof msg);
    return make_error("invalid regex " + quote(re) + " at offset " + std::to_string(off) + ": " +
                      reinterpret_cast<const char*>(msg));
  }
  pcre2_code_free(code);
  return {};
}

Result<int> parse_status(const std::string& w, std::string_view what, int lo, int hi) {
  auto v = parse_uint(w, 0, 999);
  if (!v || static_cast<int>(*v) < lo || static_cast<int>(*v) > hi)
    return make_error("invalid " + std::string(what) + " " + quote(w) + " (expected " +
                      std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return static_cast<int>(*v);
}

// The status codes HAProxy has error pages for (deny_status, errorfile).
Result<int> parse_error_status(const std::string& w, std::string_view what) {
  static constexpr std::array<int, 15> kCodes = {200, 400, 403, 404, 405, 408, 410, 413,
                                                 425, 429, 500, 501, 502, 503, 504};
  auto v = parse_uint(w, 0, 999);
  if (v)
    for (int c : kCodes)
      if (c == static_cast<int>(*v)) return c;
  return make_error("invalid " + std::string(what) + " " + quote(w) +
                    " (expected one of 200 400 403 404 405 408 410 413 425 429 500 501 502 503 "
                    "504)");
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read file " + quote(path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr std::array<std::string_view, 16> kRequestActions = {
    "allow",         "deny",          "tarpit",   "redirect", "return",   "set-header",
    "add-header",    "del-header",    "replace-header", "replace-value", "set-path",
    "set-query",     "set-uri",       "set-method", "use-service", "auth"};
constexpr std::array<std::string_view, 7> kResponseActions = {
    "allow", "deny", "set-header", "add-header", "del-header", "replace-header", "replace-value"};
// HAProxy 2.6 actions Sluice does not implement yet.
constexpr std::array<std::string_view, 44> kPlannedActions = {
    "add-acl", "cache-use", "cache-store", "capture", "del-acl", "del-map",
    "disable-l7-retry", "do-resolve", "early-hint", "normalize-uri", "reject", "replace-path",
    "replace-pathq", "replace-uri", "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0",
    "send-spoe-group", "set-bandwidth-limit", "set-dst", "set-dst-port", "set-log-level",
    "set-map", "set-mark", "set-nice", "set-pathq", "set-priority-class",
    "set-priority-offset", "set-src", "set-src-port", "set-timeout", "set-tos", "set-var",
    "set-var-fmt", "silent-drop", "strict-mode", "track-sc0", "track-sc1", "track-sc2",
    "unset-var", "wait-for-body", "wait-for-handshake", "set-status"};

// Every action haproxy 2.6 accepts in http-response (the rest are request-only).
constexpr std::array<std::string_view, 32> kHaproxyResponseActions = {
    "add-acl", "add-header", "allow", "cache-store", "capture", "del-acl", "del-header",
    "del-map", "deny", "ot-group", "redirect", "replace-header", "replace-value", "return",
    "sc-inc-gpc", "sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt", "sc-set-gpt0", "send-spoe-group",
    "set-header", "set-log-level", "set-map", "set-mark", "set-nice", "set-status", "set-tos",
    "set-var", "set-var-fmt", "silent-drop", "strict-mode", "unset-var"};

// Parses the words of one rule (action first, condition stripped).
Result<HttpRule> parse_rule(bool response, const std::vector<std::string>& w) {
  HttpRule r;
  const std::string& act = w[0];
  const std::string kw = std::string(response ? "http-response " : "http-request ") + act;
  r.keyword = kw;
  auto known = [&](std::string_view a) {
    if (response) {
      for (auto k : kResponseActions)
        if (k == a) return true;
      return false;
    }
    for (auto k : kRequestActions)
      if (k == a) return true;
    return false;
  };
  if (!known(act)) {
    bool other_side = false;
    for (auto k : response ? std::span<const std::string_view>(kRequestActions)
                           : std::span<const std::string_view>(kResponseActions))
      if (k == act) other_side = true;
    const std::string_view base = std::string_view(act).substr(0, act.find('('));
    for (auto k : kPlannedActions)
      if (k == base) other_side = true;
    if (response && other_side) {
      bool valid = base.substr(0, 8) == "track-sc" || base == "wait-for-body";
      for (auto k : kHaproxyResponseActions)
        if (k == base) valid = true;
      if (!valid)
        return make_error("action " + quote(act) +
                          " is a request action: not valid in 'http-response'");
    }
    if (other_side)
      return make_error("action " + quote(kw) + " is not implemented yet in Sluice");
    std::vector<std::string_view> names;
    if (response)
      names.assign(kResponseActions.begin(), kResponseActions.end());
    else
      names.assign(kRequestActions.begin(), kRequestActions.end());
    return make_error("unknown action " + quote(act) + did_you_mean(act, names));
  }
  std::size_t n = w.size();
  auto need = [&](std::size_t count, std::string_view shape) -> Result<void> {
    if (n - 1 < count) return make_error(quote(kw) + " expects " + std::string(shape));
    if (n - 1 > count)
      return make_error("unexpected argument " + quote(w[count + 1]) + " (" + quote(kw) +
                        " expects " + std::string(shape) + ")");
    return {};
  };
  if (act == "allow") {
    r.action = A::Allow;
    if (auto e = need(0, "no argument"); !e) return Error{e.error()};
  } else if (act == "deny" || act == "tarpit") {
    r.action = act == "deny" ? A::Deny : A::Tarpit;
    for (std::size_t i = 1; i < n; ++i) {
      if ((w[i] == "deny_status" || w[i] == "status") && i + 1 < n) {
        const std::string& what = w[i];
        auto s = parse_error_status(w[++i], what);
        if (!s) return Error{s.error()};
        r.status = *s;
      } else if (w[i] == "deny_status" || w[i] == "status") {
        return make_error(quote(w[i]) + " expects a status code");
      } else if (w[i] == "content-type" || w[i] == "string" || w[i] == "lf-string" ||
                 w[i] == "file" || w[i] == "errorfile" || w[i] == "hdr") {
        return make_error(quote(kw) + " with a custom response (" + quote(w[i]) +
                          ") is not implemented yet in Sluice; use 'http-request return'");
      } else {
        return make_error("unexpected argument " + quote(w[i]) + " (" + quote(kw) +
                          " expects [deny_status CODE])");
      }
    }
  } else if (act == "redirect") {
    r.action = A::Redirect;
    r.status = 302;
    if (n < 3) return make_error(quote(kw) + " expects location|prefix|scheme and a value");
    if (w[1] == "location") r.redirect = HttpRule::Redirect::Location;
    else if (w[1] == "prefix") r.redirect = HttpRule::Redirect::Prefix;
    else if (w[1] == "scheme") r.redirect = HttpRule::Redirect::Scheme;
    else
      return make_error("unknown redirect type " + quote(w[1]) +
                        did_you_mean(w[1], {"location", "prefix", "scheme"}));
    r.value = w[2];
    if (auto e = check_log_format(r.value, "redirect " + w[1]); !e) return Error{e.error()};
    for (std::size_t i = 3; i < n; ++i) {
      const std::string& o = w[i];
      if (o == "code") {
        if (i + 1 >= n) return make_error("'code' expects 301, 302, 303, 307 or 308");
        auto c = parse_uint(w[++i], 0, 999);
        if (!c || (*c != 301 && *c != 302 && *c != 303 && *c != 307 && *c != 308))
          return make_error("invalid redirect code " + quote(w[i]) +
                            " (expected 301, 302, 303, 307 or 308)");
        r.status = static_cast<int>(*c);
      } else if (o == "drop-query") {
        r.drop_query = true;
      } else if (o == "append-slash") {
        r.append_slash = true;
      } else if (o == "set-cookie" || o == "clear-cookie") {
        if (i + 1 >= n) return make_error(quote(o) + " expects a cookie name");
        (o == "set-cookie" ? r.set_cookie : r.clear_cookie) = w[++i];
      } else {
        return make_error("unknown redirect option " + quote(o) +
                          did_you_mean(o, {"code", "drop-query", "append-slash", "set-cookie",
                                           "clear-cookie"}));
      }
    }
  } else if (act == "return") {
    r.action = A::Return;
    r.status = 200;
    bool status_set = false;
    for (std::size_t i = 1; i < n; ++i) {
      const std::string& o = w[i];
      auto arg = [&](std::string_view what) -> Result<std::string> {
        if (i + 1 >= n) return make_error(quote(o) + " expects " + std::string(what));
        return w[++i];
      };
      if (o == "status") {
        auto v = arg("a status code");
        if (!v) return Error{v.error()};
        auto s = parse_status(*v, "status", 200, 599);
        if (!s) return Error{s.error()};
        r.status = *s;
        status_set = true;
      } else if (o == "content-type") {
        auto v = arg("a content type");
        if (!v) return Error{v.error()};
        r.content_type = *v;
      } else if (o == "string" || o == "lf-string" || o == "file" || o == "errorfile") {
        if (r.body_kind != HttpRule::Body::None)
          return make_error("'return' takes only one of string, lf-string, file and errorfile");
        auto v = arg(o == "string" || o == "lf-string" ? "a string" : "a file name");
        if (!v) return Error{v.error()};
        if (o == "string") {
          r.body_kind = HttpRule::Body::String;
          r.body = *v;
        } else if (o == "lf-string") {
          r.body_kind = HttpRule::Body::LfString;
          r.body = *v;
          if (auto e = check_log_format(r.body, "lf-string"); !e) return Error{e.error()};
        } else {
          auto f = read_file(*v);
          if (!f) return Error{f.error()};
          r.body_kind = o == "file" ? HttpRule::Body::File : HttpRule::Body::ErrorFile;
          r.body = std::move(*f);
        }
      } else if (o == "hdr") {
        if (i + 2 >= n) return make_error("'hdr' expects a name and a value");
        std::string name = w[++i];
        std::string value = w[++i];
        if (auto e = check_log_format(value, "hdr " + name); !e) return Error{e.error()};
        r.headers.emplace_back(std::move(name), std::move(value));
      } else if (o == "lf-file" || o == "errorfiles" || o == "default-errorfiles") {
        return make_error("'return' option " + quote(o) + " is not implemented yet in Sluice");
      } else {
        return make_error("unknown 'return' option " + quote(o) +
                          did_you_mean(o, {"status", "content-type", "string", "lf-string",
                                           "file", "errorfile", "hdr"}));
      }
    }
    if (r.body_kind == HttpRule::Body::ErrorFile && status_set) {
      auto s = parse_error_status(std::to_string(r.status), "status");
      if (!s) return Error{s.error()};
    }
    bool needs_type = r.body_kind == HttpRule::Body::String ||
                      r.body_kind == HttpRule::Body::LfString ||
                      (r.body_kind == HttpRule::Body::File && !r.body.empty());
    if (needs_type && r.content_type.empty())
      return make_error("'return' with a body needs 'content-type TYPE'");
  } else if (act == "auth") {
    r.action = A::Auth;
    r.status = 401;
    if (n >= 2 && w[1] != "realm")
      return make_error("unexpected argument " + quote(w[1]) + " (" + quote(kw) +
                        " expects [realm REALM])");
    if (n == 2) return make_error("'realm' expects a value");
    if (n > 3)
      return make_error("unexpected argument " + quote(w[3]) + " (" + quote(kw) +
                        " expects [realm REALM])");
    if (n == 3) r.realm = w[2];
  } else if (act == "use-service") {
    r.action = A::UseService;
    if (auto e = need(1, "a service name (prometheus-exporter or expvar)"); !e)
      return Error{e.error()};
    if (w[1] == "prometheus-exporter")
      r.service = HttpRule::Service::Prometheus;
    else if (w[1] == "expvar")
      r.service = HttpRule::Service::Expvar;
    else
      return make_error("unknown service " + quote(w[1]) +
                        did_you_mean(w[1], {"prometheus-exporter", "expvar"}) +
                        " (Sluice provides prometheus-exporter and expvar)");
    r.value = w[1];
  } else if (act == "set-header" || act == "add-header") {
    r.action = act == "set-header" ? A::SetHeader : A::AddHeader;
    if (auto e = need(2, "a header name and a value"); !e) return Error{e.error()};
    r.name = w[1];
    r.value = w[2];
    if (auto e = check_log_format(r.value, "value"); !e) return Error{e.error()};
  } else if (act == "del-header") {
    r.action = A::DelHeader;
    if (n == 2) {
      r.name = w[1];
    } else if (n == 4 && w[2] == "-m") {
      r.name = w[1];
      static const std::vector<std::string_view> kMethods = {"str", "beg", "end", "sub", "reg"};
      bool ok = false;
      for (auto m : kMethods) ok = ok || m == w[3];
      if (!ok) return make_error("unknown match method " + quote(w[3]) + did_you_mean(w[3], kMethods) + " (expected str, beg, end, sub or reg)");
      r.match = w[3];
      if (r.match == "reg")
        if (auto e = check_regex(r.name); !e) return Error{e.error()};
    } else {
      return make_error(quote(kw) + " expects a header name [-m str|beg|end|sub|reg]");
    }
  } else if (act == "replace-header" || act == "replace-value") {
    r.action = act == "replace-header" ? A::ReplaceHeader : A::ReplaceValue;
    if (auto e = need(3, "a header name, a regex and a replacement"); !e) return Error{e.error()};
    r.name = w[1];
    r.regex = w[2];
    r.value = w[3];
    if (auto e = check_regex(r.regex); !e) return Error{e.error()};
    if (auto e = check_log_format(r.value, "replacement"); !e) return Error{e.error()};
  } else {
    r.action = act == "set-path"    ? A::SetPath
               : act == "set-query" ? A::SetQuery
               : act == "set-uri"   ? A::SetUri
                                    : A::SetMethod;
    if (auto e = need(1, "a value (log-format)"); !e) return Error{e.error()};
    r.value = w[1];
    if (auto e = check_log_format(r.value, "value"); !e) return Error{e.error()};
  }
  return r;
}

Result<void> add_rule(Parser& p, bool response, const std::vector<std::string>& words,
                      std::size_t first) {
  if (p.in_defaults() && p.proxy().name.empty())
    return make_error(std::string(response ? "'http-response'" : "'http-request'") +
                      " is not allowed in an anonymous 'defaults' section (name it and use "
                      "'from NAME', or write the rule in the proxy)");
  std::vector<std::string> w;
  std::size_t cond_at = words.size();
  for (std::size_t i = first; i < words.size(); ++i) {
    if (words[i] == "if" || words[i] == "unless") {
      cond_at = i;
      break;
    }
    w.push_back(words[i]);
  }
  if (w.empty())
    return make_error(std::string(response ? "'http-response'" : "'http-request'") +
                      " expects an action");
  auto r = parse_rule(response, w);
  if (!r) return Error{r.error()};
  if (cond_at < words.size()) {
    auto c = parse_condition(p, Args{&words, cond_at});
    if (!c) return Error{c.error()};
    r->cond = std::move(*c);
  }
  r->loc = p.loc();
  (response ? p.proxy().http_response_rules : p.proxy().http_request_rules)
      .push_back(std::move(*r));
  return {};
}

std::vector<std::string> words_of(const Stmt& st) {
  std::vector<std::string> w;
  for (std::size_t i = 0; i < st.args.size(); ++i) w.push_back(st.args[i]);
  return w;
}

// "^X-Name:" / "^X-Name:.*" / "^X-Name" -> "X-Name": the legacy regexes that
// only ever named a header; others have no modern one-to-one form.
std::optional<std::string> header_of_legacy_regex(std::string_view re) {
  if (re.empty() || re[0] != '^') return {};
  re.remove_prefix(1);
  std::size_t i = 0;
  while (i < re.size() && (std::isalnum(static_cast<unsigned char>(re[i])) || re[i] == '-' ||
                           re[i] == '_'))
    ++i;
  if (i == 0) return {};
  std::string_view rest = re.substr(i);
  if (rest != ":" && rest != ":.*" && rest != ":.*$" && rest != ": .*" && rest != "") return {};
  return std::string(re.substr(0, i));
}

}  // namespace

void check_http_rules_mode(Proxy& p, std::vector<Diagnostic>& errors,
                           std::vector<Diagnostic>& warnings) {
  if (p.mode == Mode::Http) return;
  if (p.stats_page.enabled) {
    warnings.push_back(Diagnostic{p.loc, "stats",
                                  "'stats' statements ignored for proxy " + quote(p.name) +
                                      " as they require 'mode http'"});
    p.stats_page = StatsPage{};
  }
  for (auto* list : {&p.http_request_rules, &p.http_response_rules}) {
    if (list->empty()) continue;
    const HttpRule& r = list->front();
    std::string kw = list == &p.http_request_rules ? "http-request" : "http-response";
    warnings.push_back(Diagnostic{r.loc, kw,
                                  "'" + kw + "' rules ignored for proxy " + quote(p.name) +
                                      " as they require 'mode http'"});
    list->clear();
  }
  // A TCP session has no request line, status or HTTP timers to print.
  if (!p.log_format.empty() && p.has_frontend()) {
    ConfigBinder b;
    b.at_log_time = true;
    auto lf = log::LogFormat::compile(p.log_format, &b);
    if (lf && !lf->http_only_variable().empty())
      errors.push_back(Diagnostic{p.log_format_loc, "log-format",
                                  "log-format variable '%" + std::string(lf->http_only_variable()) +
                                      "' needs 'mode http' (proxy " + quote(p.name) +
                                      " is in TCP mode)"});
  }
}

namespace kw {

Result<void> http_request(Parser& p, const Stmt& st) {
  return add_rule(p, false, words_of(st), 0);
}

Result<void> http_response(Parser& p, const Stmt& st) {
  return add_rule(p, true, words_of(st), 0);
}

// reqadd / rspadd "Name:\ value" [if|unless COND] -> add-header Name value.
Result<void> legacy_add(Parser& p, const Stmt& st) {
  const bool response = st.keyword == "rspadd";
  if (st.args.empty()) return make_error(quote(st.keyword) + " expects a header line");
  const std::string& line = st.args[0];
  auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(quote(st.keyword) + " expects 'Name: value', got " + quote(line));
  std::string name = line.substr(0, colon);
  std::string value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  std::string modern = response ? "http-response add-header" : "http-request add-header";
  p.warn(st.keyword, quote(st.keyword) + " is deprecated; use " + quote(modern) +
                         " instead (translated)");
  // Legacy values are plain text: protect '%' from log-format.
  std::string escaped;
  for (char c : value) {
    if (c == '%') escaped += '%';
    escaped += c;
  }
  std::vector<std::string> w{"add-header", name, escaped};
  for (std::size_t i = 1; i < st.args.size(); ++i) w.push_back(st.args[i]);
  return add_rule(p, response, w, 0);
}

// reqdel / reqidel / rspdel / rspidel REGEX: only "^Name:" forms translate.
Result<void> legacy_del(Parser& p, const Stmt& st) {
  const bool response = st.keyword.substr(0, 3) == "rsp";
  std::string modern = response ? "http-response del-header" : "http-request del-header";
  if (st.args.empty()) return make_error(quote(st.keyword) + " expects a regex");
  auto name = header_of_legacy_regex(st.args[0]);
  if (!name)
    return make_error(quote(st.keyword) + " " + quote(st.args[0]) +
                      " has no modern equivalent Sluice can derive; write " + quote(modern) +
                      " NAME [-m reg] instead");
  p.warn(st.keyword, quote(st.keyword) + " is deprecated; use " + quote(modern) +
                         " instead (translated)");
  std::vector<std::string> w{"del-header", *name};
  for (std::size_t i = 1; i < st.args.size(); ++i) w.push_back(st.args[i]);
  return add_rule(p, response, w, 0);
}

Result<void> log_format(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'log-format' expects a format string");
  // Spaces between words are delimiters, merged into one (HAProxy's rule).
  std::string text;
  for (std::size_t i = 0; i < st.args.size(); ++i) {
    if (i > 0) text += ' ';
    text += st.args[i];
  }
  if (auto e = check_log_format(text, "log-format", true); !e) return e;
  p.proxy().log_format = std::move(text);
  p.proxy().log_format_loc = p.loc();
  return {};
}

Result<void> capture(Parser& p, const Stmt& st) {
  if (st.args.size() >= 2 && st.args[0] == "cookie")
    return make_error("'capture cookie' is not implemented yet in Sluice");
  if (st.args.size() != 5 || (st.args[0] != "request" && st.args[0] != "response") ||
      st.args[1] != "header" || st.args[3] != "len")
    return make_error("'capture' expects 'request header NAME len N' or 'response header NAME "
                      "len N'");
  auto len = parse_uint(st.args[4], 1, 65535);
  if (!len) return with_context("len", len.error());
  HeaderCapture c{st.args[2], static_cast<unsigned>(*len)};
  (st.args[0] == "request" ? p.proxy().request_captures : p.proxy().response_captures)
      .push_back(std::move(c));
  return {};
}

}  // namespace kw
}  // namespace sluice::config
