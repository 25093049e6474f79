#include "config/values.h"

#include <string>

namespace sluice::config {
namespace {

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Leading decimal digits of s as a 64-bit value; npos-like failure on overflow.
bool leading_number(std::string_view s, std::uint64_t& value, std::size_t& used) {
  value = 0;
  used = 0;
  while (used < s.size() && s[used] >= '0' && s[used] <= '9') {
    if (value > (UINT64_MAX - 9) / 10) return false;
    value = value * 10 + static_cast<unsigned>(s[used] - '0');
    ++used;
  }
  return used > 0;
}

}  // namespace

Result<unsigned> parse_uint(std::string_view s, unsigned lo, unsigned hi) {
  std::uint64_t v = 0;
  std::size_t used = 0;
  if (!leading_number(s, v, used) || used != s.size())
    return make_error("expected a number, got " + quoted(s));
  if (v < lo || v > hi)
    return make_error("value " + std::string(s) + " out of range " + std::to_string(lo) + ".." +
                      std::to_string(hi));
  return static_cast<unsigned>(v);
}

Result<int> parse_int(std::string_view s, int lo, int hi) {
  bool neg = !s.empty() && s[0] == '-';
  std::string_view digits = neg ? s.substr(1) : s;
  std::uint64_t v = 0;
  std::size_t used = 0;
  if (!leading_number(digits, v, used) || used != digits.size())
    return make_error("expected a number, got " + quoted(s));
  if (v > 0x7FFFFFFFULL) return make_error("value " + std::string(s) + " out of range");
  int iv = neg ? -static_cast<int>(v) : static_cast<int>(v);
  if (iv < lo || iv > hi)
    return make_error("value " + std::string(s) + " out of range " + std::to_string(lo) + ".." +
                      std::to_string(hi));
  return iv;
}

Result<Millis> parse_time(std::string_view s) {
  std::uint64_t v = 0;
  std::size_t used = 0;
  if (!leading_number(s, v, used)) return make_error("expected a time like 5s, got " + quoted(s));
  std::string_view unit = s.substr(used);
  // Work in microseconds, then round up to whole milliseconds.
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "ms") mult = 1000;
  else if (unit == "us") mult = 1;
  else if (unit == "s") mult = 1000ULL * 1000;
  else if (unit == "m") mult = 60ULL * 1000 * 1000;
  else if (unit == "h") mult = 3600ULL * 1000 * 1000;
  else if (unit == "d") mult = 86400ULL * 1000 * 1000;
  else
    return make_error("expected a time like 5s, got " + quoted(s) +
                      " (units: us, ms, s, m, h, d)");
  constexpr std::uint64_t kMaxMs = 0x7FFFFFFFULL;
  if (v > kMaxMs * 1000 / mult + 1) return make_error("time " + quoted(s) + " is too large");
  std::uint64_t us = v * mult;
  std::uint64_t ms = (us + 999) / 1000;
  if (ms > kMaxMs)
    return make_error("time " + quoted(s) + " is too large (at most 2147483647ms, about 24.8 days)");
  return Millis(static_cast<Millis::rep>(ms));
}

Result<std::uint64_t> parse_size(std::string_view s) {
  std::uint64_t v = 0;
  std::size_t used = 0;
  if (!leading_number(s, v, used)) return make_error("expected a size like 16k, got " + quoted(s));
  std::string_view unit = s.substr(used);
  unsigned shift = 0;
  if (unit.empty()) shift = 0;
  else if (unit == "k" || unit == "K") shift = 10;
  else if (unit == "m" || unit == "M") shift = 20;
  else if (unit == "g" || unit == "G") shift = 30;
  else return make_error("expected a size like 16k, got " + quoted(s) + " (units: k, m, g)");
  if (shift && v > (UINT64_MAX >> shift)) return make_error("size " + quoted(s) + " is too large");
  return v << shift;
}

Result<unsigned> parse_octal(std::string_view s) {
  if (s.empty() || s.size() > 11) return make_error("expected an octal mode like 600, got " + quoted(s));
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return make_error("expected an octal mode like 600, got " + quoted(s));
    v = v * 8 + static_cast<unsigned>(c - '0');
  }
  if (v > 07777) return make_error("mode " + quoted(s) + " is out of range");
  return v;
}

}  // namespace sluice::config
