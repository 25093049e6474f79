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

namespace {
constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::int64_t kDaySeconds = 86400;
}  // namespace

std::uint32_t date_units(std::int64_t now_s) {
  return static_cast<std::uint32_t>(((now_s + 3) >> 2) & 0x3FFFFFFF);
}

void encode_date(std::uint32_t units, char out[5]) {
  for (int i = 0; i < 5; ++i) out[i] = kB64[(units >> (6 * (4 - i))) & 63];
}

std::optional<std::uint32_t> decode_date(std::string_view five) {
  if (five.size() != 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : five) {
    auto i = kB64.find(c);
    if (i == std::string_view::npos) return std::nullopt;
    v = (v << 6) | static_cast<std::uint32_t>(i);
  }
  return v;
}

CookieValue parse_cookie_value(std::string_view v) {
  CookieValue out;
  auto bar = v.find('|');
  out.server = v.substr(0, bar);
  if (bar == std::string_view::npos) return out;
  std::string_view rest = v.substr(bar + 1);
  auto bar2 = rest.find('|');
  out.last = decode_date(rest.substr(0, bar2));
  if (bar2 != std::string_view::npos) out.first = decode_date(rest.substr(bar2 + 1));
  return out;
}

CookieAge cookie_age(const config::CookieDef& c, const CookieValue& v, std::int64_t now_s) {
  if (c.maxidle && v.last) {
    std::int64_t at = std::int64_t{*v.last} << 2;
    if (at > now_s + kDaySeconds || now_s - at > c.maxidle->count() / 1000) return CookieAge::Expired;
  }
  if (c.maxlife && v.first) {
    std::int64_t at = std::int64_t{*v.first} << 2;
    if (at > now_s + kDaySeconds || now_s - at > c.maxlife->count() / 1000) return CookieAge::Old;
  }
  return CookieAge::Valid;
}

bool cookie_needs_refresh(const config::CookieDef& c, const CookieValue& v, std::int64_t now_s) {
  if ((c.maxidle || v.last) && (!v.last || (std::int64_t{*v.last} << 2) < now_s)) return true;
  if (c.maxlife && !v.first) return true;  // set the first date
  if (!c.maxlife && v.first) return true;  // drop it
  return false;
}

namespace {
// "; path=/" then the options of `cookie`, in HAProxy's order.
void put_attributes(Out& o, const config::CookieDef& c) {
  o.put("; path=/");
  for (const auto& dm : c.domains) {
    o.put("; domain=");
    o.put(dm);
  }
  if (c.httponly) o.put("; HttpOnly");
  if (c.secure) o.put("; Secure");
  for (const auto& a : c.attrs) {
    o.put("; ");
    o.put(a);
  }
}
}  // namespace

std::size_t format_set_cookie(const config::CookieDef& c, std::string_view value, char* out,
                              std::size_t cap, std::int64_t now_s,
                              std::optional<std::uint32_t> first) {
  Out o{out, cap};
  o.put(c.name);
  o.put("=");
  o.put(value);
  if (c.maxidle || c.maxlife) {
    char d[5];
    encode_date(date_units(now_s), d);
    o.put("|");
    o.put(std::string_view(d, 5));
    if (c.maxlife) {
      encode_date(first ? *first : date_units(now_s), d);
      o.put("|");
      o.put(std::string_view(d, 5));
    }
  }
  put_attributes(o, c);
  return o.ok ? o.n : 0;
}

std::size_t format_remove_cookie(const config::CookieDef& c, char* out, std::size_t cap) {
  Out o{out, cap};
  o.put(c.name);
  o.put("=; Expires=Thu, 01-Jan-1970 00:00:01 GMT");
  put_attributes(o, c);
  return o.ok ? o.n : 0;
}

std::size_t unprefix_cookie(std::string_view field, std::string_view name, char* out,
                            std::size_t cap) {
  Out o{out, cap};
  each_pair(field, [&](std::string_view kv, std::string_view n, std::string_view v) {
    if (o.n > 0) o.put("; ");
    auto tilde = v.find('~');
    if (n == name && tilde != std::string_view::npos) {
      o.put(n);
      o.put("=");
      o.put(v.substr(tilde + 1));
    } else {
      o.put(kv);
    }
    return true;
  });
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
