#pragma once
// Where the HTTP hashing algorithms find their key (`balance uri`,
// `url_param`, `hdr(name)`), as HAProxy documents it. Pure and allocation-
// free: views into the request. No key: the caller falls back to round robin.

#include <optional>
#include <string_view>

#include "config/model.h"

namespace sluice::lb {

// `balance uri [len N] [depth N] [whole] [path-only]`: the request target up
// to '?' (all of it with `whole`), from the path's first '/' with
// `path-only`, at most `len` characters and `depth` directory levels.
std::string_view uri_key(std::string_view target, const config::Balance& b);

// `balance url_param NAME`: the value of NAME=VALUE in a query string
// ("a=1&NAME=v&..."); nothing when absent or empty.
std::optional<std::string_view> url_param_key(std::string_view query, std::string_view name);

// The query string of a request target (after '?', before '#'); empty if none.
std::string_view query_of(std::string_view target);

// `balance hdr(Host) use_domain_only`: the label before the last dot
// ("haproxy.1wt.eu" -> "1wt"); the whole value when it has no dot.
std::string_view domain_only(std::string_view value);

}  // namespace sluice::lb
