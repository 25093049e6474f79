// HTTP request and response fetches: headers, method, URL parts, query
// parameters, cookies, status. Header fetches see comma-separated values as
// separate occurrences, as HAProxy's hdr() does; occurrence numbers count
// from 1 at the first value, negative ones from the last (-1, the default).
#include <array>
#include <string_view>

#include "acl/fetch.h"

namespace sluice::acl {

namespace {

using Getter = bool (SampleSource::*)(std::string_view, std::size_t, std::string_view&) const;

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Calls fn(value) for every comma-separated value of every field `name`;
// stops when fn returns false.
template <class Fn>
void each_value(const SampleSource& s, Getter get, std::string_view name, Fn&& fn) {
  std::string_view field;
  for (std::size_t i = 0; (s.*get)(name, i, field); ++i) {
    for (;;) {
      auto comma = field.find(',');
      if (!fn(trim(field.substr(0, comma)))) return;
      if (comma == std::string_view::npos) break;
      field.remove_prefix(comma + 1);
    }
  }
}

bool header_value(const SampleSource& s, Getter get, const FetchArgs& a, Sample& out) {
  std::int64_t occ = a.has_num ? a.num : -1;
  std::int64_t count = 0;
  if (occ < 0) each_value(s, get, a.str, [&](std::string_view) { return ++count, true; });
  std::int64_t want = occ < 0 ? count + occ + 1 : occ;
  if (want <= 0) return false;
  std::int64_t n = 0;
  bool found = false;
  each_value(s, get, a.str, [&](std::string_view v) {
    if (++n != want) return true;
    out.type = SampleType::Str;
    out.str = v;
    found = true;
    return false;
  });
  return found;
}

bool fetch_hdr(const SampleSource& s, const FetchArgs& a, Sample& out) {
  return header_value(s, &SampleSource::http_req_field, a, out);
}
bool fetch_res_hdr(const SampleSource& s, const FetchArgs& a, Sample& out) {
  return header_value(s, &SampleSource::http_res_field, a, out);
}

bool count_values(const SampleSource& s, Getter get, const FetchArgs& a, Sample& out) {
  if (!s.http_method()) return false;
  std::int64_t count = 0;
  each_value(s, get, a.str, [&](std::string_view) { return ++count, true; });
  out.type = SampleType::Int;
  out.integer = count;
  return true;
}
bool fetch_hdr_cnt(const SampleSource& s, const FetchArgs& a, Sample& out) {
  return count_values(s, &SampleSource::http_req_field, a, out);
}

bool fetch_res_hdr_cnt(const SampleSource& s, const FetchArgs& a, Sample& out) {
  if (!s.http_status()) return false;
  std::int64_t count = 0;
  each_value(s, &SampleSource::http_res_field, a.str, [&](std::string_view) { return ++count, true; });
  out.type = SampleType::Int;
  out.integer = count;
  return true;
}

// res.cook(name): the value of that cookie in the last Set-Cookie naming it.
bool fetch_res_cook(const SampleSource& s, const FetchArgs& a, Sample& out) {
  std::string_view field;
  bool found = false;
  for (std::size_t i = 0; s.http_res_field("set-cookie", i, field); ++i) {
    std::string_view kv = trim(field.substr(0, field.find(';')));
    auto eq = kv.find('=');
    if (eq != std::string_view::npos && trim(kv.substr(0, eq)) == a.str) {
      out.type = SampleType::Str;
      out.str = trim(kv.substr(eq + 1));
      found = true;
    }
  }
  return found;
}

bool str_sample(std::optional<std::string_view> v, Sample& out) {
  if (!v) return false;
  out.type = SampleType::Str;
  out.str = *v;
  return true;
}

// The path of a target: absolute-form drops scheme and authority; '*' and
// authority-form (CONNECT) have none.
std::optional<std::string_view> path_of(std::string_view t) {
  auto q = t.find('?');
  std::string_view p = t.substr(0, q);
  if (!p.empty() && p.front() != '/') {
    auto scheme = p.find("://");
    if (scheme == std::string_view::npos) return {};
    auto slash = p.find('/', scheme + 3);
    if (slash == std::string_view::npos) return std::string_view("/");
    p = p.substr(slash);
  }
  return p;
}

bool fetch_method(const SampleSource& s, const FetchArgs&, Sample& out) {
  return str_sample(s.http_method(), out);
}
bool fetch_url(const SampleSource& s, const FetchArgs&, Sample& out) {
  return str_sample(s.http_target(), out);
}
bool fetch_path(const SampleSource& s, const FetchArgs&, Sample& out) {
  auto t = s.http_target();
  if (!t) return false;
  return str_sample(path_of(*t), out);
}
bool fetch_query(const SampleSource& s, const FetchArgs&, Sample& out) {
  auto t = s.http_target();
  if (!t) return false;
  auto q = t->find('?');
  if (q == std::string_view::npos) return false;
  return str_sample(t->substr(q + 1), out);
}

// url_param(name[,delim]): the first parameter of that name in the query.
bool fetch_url_param(const SampleSource& s, const FetchArgs& a, Sample& out) {
  auto t = s.http_target();
  if (!t) return false;
  auto q = t->find('?');
  if (q == std::string_view::npos) return false;
  std::string_view rest = t->substr(q + 1);
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    auto eq = kv.find('=');
    std::string_view k = kv.substr(0, eq);
    if (a.str.empty() || k == a.str) {
      out.type = SampleType::Str;
      out.str = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return false;
}

// req.cook(name): the last value of that cookie in the Cookie fields.
bool fetch_cook(const SampleSource& s, const FetchArgs& a, Sample& out) {
  std::string_view field;
  bool found = false;
  for (std::size_t i = 0; s.http_req_field("cookie", i, field); ++i) {
    std::string_view rest = field;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view kv = trim(rest.substr(0, semi));
      auto eq = kv.find('=');
      if (eq != std::string_view::npos && trim(kv.substr(0, eq)) == a.str) {
        out.type = SampleType::Str;
        out.str = trim(kv.substr(eq + 1));
        found = true;
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return found;
}

bool fetch_status(const SampleSource& s, const FetchArgs&, Sample& out) {
  auto v = s.http_status();
  if (!v) return false;
  out.type = SampleType::Int;
  out.integer = *v;
  return true;
}

using enum ArgShape;
using T = SampleType;
using M = MatchKind;

constexpr std::array kHttpFetches{
    FetchDef{"hdr", OptStrOptInt, T::Str, M::Str, fetch_hdr, "request header value"},
    FetchDef{"req.hdr", OptStrOptInt, T::Str, M::Str, fetch_hdr, "request header value"},
    FetchDef{"hdr_beg", OptStrOptInt, T::Str, M::Beg, fetch_hdr, "request header prefix"},
    FetchDef{"hdr_end", OptStrOptInt, T::Str, M::End, fetch_hdr, "request header suffix"},
    FetchDef{"hdr_sub", OptStrOptInt, T::Str, M::Sub, fetch_hdr, "request header substring"},
    FetchDef{"hdr_reg", OptStrOptInt, T::Str, M::Reg, fetch_hdr, "request header regex"},
    FetchDef{"hdr_dom", OptStrOptInt, T::Str, M::Dom, fetch_hdr, "request header domain"},
    FetchDef{"hdr_dir", OptStrOptInt, T::Str, M::Dir, fetch_hdr, "request header directory"},
    FetchDef{"hdr_len", OptStrOptInt, T::Str, M::Len, fetch_hdr, "request header length"},
    FetchDef{"hdr_cnt", OptStrOptInt, T::Int, M::Int, fetch_hdr_cnt, "request header count"},
    FetchDef{"req.hdr_cnt", OptStrOptInt, T::Int, M::Int, fetch_hdr_cnt, "request header count"},
    FetchDef{"method", None, T::Str, M::Str, fetch_method, "request method"},
    FetchDef{"path", None, T::Str, M::Str, fetch_path, "request path"},
    FetchDef{"path_beg", None, T::Str, M::Beg, fetch_path, "request path prefix"},
    FetchDef{"path_end", None, T::Str, M::End, fetch_path, "request path suffix"},
    FetchDef{"path_sub", None, T::Str, M::Sub, fetch_path, "request path substring"},
    FetchDef{"path_reg", None, T::Str, M::Reg, fetch_path, "request path regex"},
    FetchDef{"path_dir", None, T::Str, M::Dir, fetch_path, "request path directory"},
    FetchDef{"path_dom", None, T::Str, M::Dom, fetch_path, "request path domain"},
    FetchDef{"path_len", None, T::Str, M::Len, fetch_path, "request path length"},
    FetchDef{"url", None, T::Str, M::Str, fetch_url, "request target"},
    FetchDef{"url_beg", None, T::Str, M::Beg, fetch_url, "request target prefix"},
    FetchDef{"url_end", None, T::Str, M::End, fetch_url, "request target suffix"},
    FetchDef{"url_sub", None, T::Str, M::Sub, fetch_url, "request target substring"},
    FetchDef{"url_reg", None, T::Str, M::Reg, fetch_url, "request target regex"},
    FetchDef{"url_dir", None, T::Str, M::Dir, fetch_url, "request target directory"},
    FetchDef{"url_dom", None, T::Str, M::Dom, fetch_url, "request target domain"},
    FetchDef{"url_len", None, T::Str, M::Len, fetch_url, "request target length"},
    FetchDef{"query", None, T::Str, M::Str, fetch_query, "query string"},
    FetchDef{"url_param", OptStrOptInt, T::Str, M::Str, fetch_url_param, "query parameter"},
    FetchDef{"urlp", OptStrOptInt, T::Str, M::Str, fetch_url_param, "query parameter"},
    FetchDef{"req.cook", OptStrOptInt, T::Str, M::Str, fetch_cook, "request cookie value"},
    FetchDef{"cook", OptStrOptInt, T::Str, M::Str, fetch_cook, "request cookie value"},
    FetchDef{"status", None, T::Int, M::Int, fetch_status, "response status"},
    FetchDef{"res.hdr", OptStrOptInt, T::Str, M::Str, fetch_res_hdr, "response header value"},
    FetchDef{"res.hdr_cnt", OptStrOptInt, T::Int, M::Int, fetch_res_hdr_cnt, "response header count"},
    FetchDef{"res.cook", OptStrOptInt, T::Str, M::Str, fetch_res_cook, "response cookie value"},
};

}  // namespace

std::span<const FetchDef> http_fetches() {
  return kHttpFetches;
}

}  // namespace sluice::acl
