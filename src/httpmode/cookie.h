#pragma once
// Cookie persistence and cacheability rules, pure: header values in, text
// out, no sockets (unit-tested on their own).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "config/model.h"
#include "http/parser.h"

namespace sluice::httpmode {

// Value of cookie `name` in one Cookie field value (the first one), or none.
std::optional<std::string_view> find_cookie(std::string_view field, std::string_view name);

// The Cookie field value without cookie `name`, pairs joined by "; ".
// Returns the length written to out (0: nothing left, drop the field).
std::size_t strip_cookie(std::string_view field, std::string_view name, char* out,
                         std::size_t cap);

// The Set-Cookie value Sluice inserts for `value` ("NAME=VALUE; path=/...").
// With maxidle/maxlife the value carries dates as HAProxy writes them:
// "VALUE|LAST|FIRST", each a 30-bit count of 4-second units in 5 base64
// characters; LAST is now, FIRST is `first` (kept from the request) or now.
std::size_t format_set_cookie(const config::CookieDef& c, std::string_view value, char* out,
                              std::size_t cap, std::int64_t now_s = 0,
                              std::optional<std::uint32_t> first = std::nullopt);

// `cookie NAME insert` when the chosen server has no cookie value (a backup
// server, say): the Set-Cookie that makes the client drop its cookie,
// "NAME=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/...", sent where a
// cookie would have been inserted.
std::size_t format_remove_cookie(const config::CookieDef& c, char* out, std::size_t cap);

// A persistence cookie value split into the server's value and its dates
// (raw 4-second units, as encoded).
struct CookieValue {
  std::string_view server;
  std::optional<std::uint32_t> last, first;
};
CookieValue parse_cookie_value(std::string_view v);

// Dates: 4-second units <-> 5 base64 characters (HAProxy's encoding).
std::uint32_t date_units(std::int64_t now_s);
void encode_date(std::uint32_t units, char out[5]);
std::optional<std::uint32_t> decode_date(std::string_view five);

// Whether the cookie's dates still allow it: Valid, Expired (last date past
// maxidle, or more than a day in the future) or Old (first date past maxlife).
enum class CookieAge { Valid, Expired, Old };
CookieAge cookie_age(const config::CookieDef& c, const CookieValue& v, std::int64_t now_s);

// Whether an accepted cookie must be sent again to refresh its dates.
bool cookie_needs_refresh(const config::CookieDef& c, const CookieValue& v, std::int64_t now_s);

// `cookie NAME prefix`: the Cookie field value with "SRV~" removed from the
// value of cookie `name` (the server sees the cookie it set). Returns the
// length written to out; the field unchanged when there is no prefix.
std::size_t unprefix_cookie(std::string_view field, std::string_view name, char* out,
                            std::size_t cap);

// Whether a response may be stored by a shared cache by its own headers
// (explicit freshness: Expires, Last-Modified or Cache-Control max-age /
// s-maxage; not private, no-cache or no-store), for a GET or HEAD request.
// `nocache` cookies then mark it private.
bool response_cacheable(http::Method req_method, const http::MessageView& res);

}  // namespace sluice::httpmode
