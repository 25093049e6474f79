// Custom error pages: `errorfile`, `errorloc`/`errorloc302`/`errorloc303`,
// `errorfiles` and the `http-errors` sections they import from. Files are read
// and checked here, at load; directives apply in file order (a later one wins),
// so imports are resolved once every section is known (resolve_error_pages).

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"
#include "http/error_page.h"

namespace sluice::config {

namespace {

constexpr int kHandled[] = {200, 400, 401, 403, 404, 405, 407, 408, 410,
                            413, 425, 429, 500, 501, 502, 503, 504};

Result<int> parse_code(const std::string& w, std::string_view kw) {
  auto v = parse_uint(w, 100, 999);
  if (!v) return make_error(quote(kw) + " expects an HTTP status code, got " + quote(w));
  for (int c : kHandled)
    if (c == static_cast<int>(*v)) return c;
  return make_error("status code " + quote(w) + " is not one Sluice answers by itself (" +
                    quote(kw) +
                    " handles 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, "
                    "500, 501, 502, 503, 504)");
}

ErrorPage to_page(http::PreparedPage&& p) {
  ErrorPage e;
  e.head = std::move(p.head);
  e.body = std::move(p.body);
  e.http11 = p.http11;
  return e;
}

Result<ErrorPage> read_error_file(Parser& p, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open error file " + quote(path) + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string raw = ss.str();
  ErrorPage page;
  if (raw.empty()) {
    page.empty = true;  // HAProxy's "/dev/null" idiom: close without a word
    return page;
  }
  // Room must stay in a buffer for the response rules (tune.maxrewrite).
  std::size_t buf = p.global().bufsize;
  std::size_t limit = buf - std::min<std::size_t>(1024, buf / 2);
  if (raw.size() > limit)
    return make_error("error file " + quote(path) + " is " + std::to_string(raw.size()) +
                      " bytes; at most " + std::to_string(limit) +
                      " fit (tune.bufsize minus 1024 for rewrites)");
  auto prepared = http::prepare_error_file(raw);
  if (!prepared) return make_error("error file " + quote(path) + " is " + prepared.error());
  return to_page(std::move(*prepared));
}

}  // namespace

namespace kw {

Result<void> errorfile(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 2, 2, "<status code> <file>"); !r) return r;
  auto code = parse_code(st.args[0], "errorfile");
  if (!code) return Error{code.error()};
  auto page = read_error_file(p, st.args[1]);
  if (!page) return Error{page.error()};
  if (p.section() == kSecHttpErrors) {
    p.http_errors_group()[*code] = std::move(*page);
    return {};
  }
  ErrorDirective d;
  d.code = *code;
  d.page = std::move(*page);
  d.loc = p.loc();
  p.draft().error_directives.push_back(std::move(d));
  return {};
}

Result<void> errorloc(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 2, 2, "<status code> <url>"); !r) return r;
  auto code = parse_code(st.args[0], st.keyword);
  if (!code) return Error{code.error()};
  if (st.args[1].empty()) return make_error(quote(st.keyword) + " expects a non-empty URL");
  ErrorDirective d;
  d.code = *code;
  d.page = to_page(http::redirect_page(st.keyword == "errorloc303" ? 303 : 302, st.args[1]));
  d.loc = p.loc();
  p.draft().error_directives.push_back(std::move(d));
  return {};
}

Result<void> errorfiles(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'errorfiles' expects the name of an http-errors section");
  ErrorDirective d;
  d.group = st.args[0];
  d.loc = p.loc();
  for (std::size_t i = 1; i < st.args.size(); ++i) {
    auto code = parse_code(st.args[i], "errorfiles");
    if (!code) return Error{code.error()};
    d.codes.push_back(*code);
  }
  p.draft().error_directives.push_back(std::move(d));
  return {};
}

}  // namespace kw

void resolve_error_pages(const std::vector<ErrorDirective>& directives,
                         const std::map<std::string, std::map<int, ErrorPage>>& groups,
                         std::map<int, ErrorPage>& out, std::vector<Diagnostic>& errors) {
  for (const auto& d : directives) {
    if (d.group.empty()) {
      out[d.code] = d.page;
      continue;
    }
    auto g = groups.find(d.group);
    if (g == groups.end()) {
      std::vector<std::string_view> names;
      for (const auto& [n, pages] : groups) names.push_back(n);
      errors.push_back(Diagnostic{d.loc, "errorfiles",
                                  "unknown http-errors section " + quote(d.group) +
                                      did_you_mean(d.group, names)});
      continue;
    }
    if (d.codes.empty()) {
      for (const auto& [code, page] : g->second) out[code] = page;
      continue;
    }
    for (int code : d.codes) {
      auto it = g->second.find(code);
      if (it != g->second.end()) out[code] = it->second;
    }
  }
}

}  // namespace sluice::config
