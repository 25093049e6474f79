#pragma once
// A bounded line writer for log formats: writes up to `cap` bytes but counts
// everything, like snprintf, so the caller learns the full length.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace sluice::log {

struct Line {
  char* p;
  std::size_t cap;
  std::size_t n = 0;
  void put(std::string_view s) {
    if (n < cap && !s.empty()) std::memcpy(p + n, s.data(), std::min(s.size(), cap - n));
    n += s.size();
  }
  void put(char c) {
    if (n < cap) p[n] = c;
    ++n;
  }
  template <class T>
  void num(T v) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    put(std::string_view(tmp, static_cast<std::size_t>(r.ptr - tmp)));
  }
};

}  // namespace sluice::log
