#include "lb/key_extract.h"

namespace sluice::lb {

std::string_view uri_key(std::string_view target, const config::Balance& b) {
  std::string_view u = target;
  if (b.uri_path_only) {
    // Absolute form: skip "scheme://authority" up to the path's first '/'.
    if (auto sch = u.find("://"); sch != std::string_view::npos && u.substr(0, 1) != "/") {
      auto slash = u.find('/', sch + 3);
      u = slash == std::string_view::npos ? std::string_view() : u.substr(slash);
    }
  }
  if (b.uri_len > 0 && u.size() > b.uri_len) u = u.substr(0, b.uri_len);
  std::size_t end = 0;
  unsigned slashes = 0;
  for (; end < u.size(); ++end) {
    char c = u[end];
    if (c == '?' && !b.uri_whole) break;
    if (c == '/' && b.uri_depth > 0 && ++slashes > b.uri_depth) break;
  }
  return u.substr(0, end);
}

std::string_view query_of(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view s = target.substr(q + 1);
  if (auto h = s.find('#'); h != std::string_view::npos) s = s.substr(0, h);
  return s;
}

std::optional<std::string_view> url_param_key(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.size() > name.size() && pair.compare(0, name.size(), name) == 0 &&
        pair[name.size()] == '=') {
      std::string_view v = pair.substr(name.size() + 1);
      if (!v.empty()) return v;
    }
  }
  return std::nullopt;
}

std::string_view domain_only(std::string_view value) {
  auto last = value.rfind('.');
  if (last == std::string_view::npos) return value;
  auto prev = last == 0 ? std::string_view::npos : value.rfind('.', last - 1);
  std::size_t start = prev == std::string_view::npos ? 0 : prev + 1;
  return value.substr(start, last - start);
}

}  // namespace sluice::lb
