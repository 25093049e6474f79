#pragma once
// Standard base64 (RFC 4648, '+' '/', '=' padding), decoding only: HTTP Basic
// credentials for `http_auth` and the stats page's `stats auth`.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::util {

// Decodes `in` into out[0..n) (at most `cap` bytes). False on a length that
// is not a multiple of 4, a character outside the alphabet, padding anywhere
// but at the end, or output longer than `cap`.
bool base64_decode(std::string_view in, char* out, std::size_t cap, std::size_t& n);
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace sluice::util
