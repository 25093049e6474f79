#pragma once
// Cookie persistence and cacheability rules, pure: header values in, text
// out, no sockets (unit-tested on their own).

#include <cstddef>
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
std::size_t format_set_cookie(const config::CookieDef& c, std::string_view value, char* out,
                              std::size_t cap);

// Whether a response may be stored by a shared cache by its own headers
// (explicit freshness: Expires, Last-Modified or Cache-Control max-age /
// s-maxage; not private, no-cache or no-store), for a GET or HEAD request.
// `nocache` cookies then mark it private.
bool response_cacheable(http::Method req_method, const http::MessageView& res);

}  // namespace sluice::httpmode
