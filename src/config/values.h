#pragma once
// Scalar values of the configuration language: numbers, times, sizes. Each
// returns an operator-readable error naming what was expected and what was read.

#include <cstdint>
#include <string_view>

#include "config/model.h"
#include "util/result.h"

namespace sluice::config {

// A decimal unsigned integer in [lo, hi].
Result<unsigned> parse_uint(std::string_view s, unsigned lo = 0, unsigned hi = 0xFFFFFFFFu);
// A decimal signed integer in [lo, hi].
Result<int> parse_int(std::string_view s, int lo, int hi);
// A time: a number followed by us, ms, s, m, h or d; a bare number is in
// `default_unit_ms` milliseconds (1 = ms). At most 2^31-1 ms, as in HAProxy.
Result<Millis> parse_time(std::string_view s);
// A size: a number optionally followed by k, m or g (powers of 1024).
Result<std::uint64_t> parse_size(std::string_view s);
// An octal number, e.g. a UNIX socket mode.
Result<unsigned> parse_octal(std::string_view s);

}  // namespace sluice::config
