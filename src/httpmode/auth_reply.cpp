#include "httpmode/auth_reply.h"

#include <cstring>

#include "http/parser.h"
#include "http/status.h"
#include "httpmode/errors.h"

namespace sluice::httpmode {

std::size_t write_auth_reply(const config::Proxy* be, const config::Proxy& fe,
                             std::string_view realm, char* out, std::size_t cap) {
  // Build the page in `out`, then rewrite its head in place: fields are only
  // dropped before the challenge is appended, so the head never grows
  // past what is checked below.
  std::size_t n = 0;
  if (auto custom = write_custom_page(be, fe, 401, out, cap)) {
    if (*custom == 0) return 0;
    n = *custom;
  } else {
    std::string_view page = http::error_response(401);
    if (page.size() > cap) return 0;
    std::memcpy(out, page.data(), page.size());
    n = page.size();
  }
  std::string_view all(out, n);
  const std::size_t head_end = all.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  // Drop WWW-Authenticate fields (the status line is kept: start after it).
  std::size_t w = all.find("\r\n") + 2;
  std::size_t r = w;
  while (r < head_end + 2) {
    std::size_t eol = all.find("\r\n", r);
    std::string_view line = all.substr(r, eol + 2 - r);
    constexpr std::string_view kName = "www-authenticate:";
    const bool drop =
        line.size() >= kName.size() && http::iequals(line.substr(0, kName.size()), kName);
    if (!drop) {
      std::memmove(out + w, out + r, line.size());
      w += line.size();
    }
    r = eol + 2;
  }
  // out[0..w) is the head without its blank line; the body starts at head_end + 4.
  const std::size_t body_at = head_end + 4;
  const std::size_t body_len = n - body_at;
  constexpr std::string_view kPrefix = "www-authenticate: Basic realm=\"";
  constexpr std::string_view kSuffix = "\"\r\n\r\n";
  const std::size_t add = kPrefix.size() + realm.size() + kSuffix.size();
  if (w + add + body_len > cap) return 0;
  std::memmove(out + w + add, out + body_at, body_len);
  std::memcpy(out + w, kPrefix.data(), kPrefix.size());
  std::memcpy(out + w + kPrefix.size(), realm.data(), realm.size());
  std::memcpy(out + w + kPrefix.size() + realm.size(), kSuffix.data(), kSuffix.size());
  return w + add + body_len;
}

}  // namespace sluice::httpmode
