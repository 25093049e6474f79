#include "httpmode/cookie.h"

#include <cstring>

namespace sluice::httpmode {

namespace {
std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Calls fn(pair, name, value) for each "name=value" pair of a Cookie field.
template <class Fn>
void each_pair(std::string_view field, Fn&& fn) {
  while (!field.empty()) {
    auto semi = field.find(';');
    std::string_view kv = trim(field.substr(0, semi));
    if (!kv.empty()) {
      auto eq = kv.find('=');
      std::string_view n = trim(kv.substr(0, eq));
      std::string_view v = eq == std::string_view::npos ? std::string_view() : trim(kv.substr(eq + 1));
      if (!fn(kv, n, v)) return;
    }
    if (semi == std::string_view::npos) break;
    field.remove_prefix(semi + 1);
  }
}

struct Out {
  char* p;
  std::size_t cap;
  std::size_t n = 0;
  bool ok = true;
  void put(std::string_view s) {
    if (n + s.size() > cap) {
      ok = false;
      return;
    }
    std::memcpy(p + n, s.data(), s.size());
    n += s.size();
  }
};

bool has_token(std::string_view v, std::string_view tok) {
  while (!v.empty()) {
    auto comma = v.find(',');
    std::string_view t = trim(v.substr(0, comma));
    auto eq = t.find('=');
    if (http::iequals(trim(t.substr(0, eq)), tok)) return true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}
}  // namespace

std::optional<std::string_view> find_cookie(std::string_view field, std::string_view name) {
  std::optional<std::string_view> found;
  each_pair(field, [&](std::string_view, std::string_view n, std::string_view v) {
    if (n != name) return true;
    found = v;
    return false;
  });
  return found;
}

std::size_t strip_cookie(std::string_view field, std::string_view name, char* out,
                         std::size_t cap) {
  Out o{out, cap};
  each_pair(field, [&](std::string_view kv, std::string_view n, std::string_view) {
    if (n == name) return true;
    if (o.n > 0) o.put("; ");
    o.put(kv);
    return true;
  });
  return o.ok ? o.n : 0;
}

std::size_t format_set_cookie(const config::CookieDef& c, std::string_view value, char* out,
                              std::size_t cap) {
  Out o{out, cap};
  o.put(c.name);
  o.put("=");
  o.put(value);
  o.put("; path=/");
  for (const auto& d : c.domains) {
    o.put("; domain=");
    o.put(d);
  }
  if (c.httponly) o.put("; HttpOnly");
  if (c.secure) o.put("; Secure");
  return o.ok ? o.n : 0;
}

bool response_cacheable(http::Method req_method, const http::MessageView& res) {
  if (req_method != http::Method::Get && req_method != http::Method::Head) return false;
  switch (res.head().status) {
    case 200: case 203: case 204: case 206: case 300: case 301: case 404: case 405:
    case 410: case 414: case 501:
      break;
    default:
      return false;
  }
  bool fresh = false;
  for (auto f : res) {
    if (http::iequals(f.name, "cache-control")) {
      if (has_token(f.value, "private") || has_token(f.value, "no-cache") ||
          has_token(f.value, "no-store"))
        return false;
      if (has_token(f.value, "max-age") || has_token(f.value, "s-maxage")) fresh = true;
    } else if (http::iequals(f.name, "expires") || http::iequals(f.name, "last-modified")) {
      fresh = true;
    }
  }
  return fresh;
}

}  // namespace sluice::httpmode
