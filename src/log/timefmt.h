#pragma once
// Date pieces for log lines, computed once per second per thread (localtime_r
// takes a lock and reads the time zone, too slow for every line).

#include <time.h>

#include <cstddef>
#include <string_view>

namespace sluice::log {

struct LocalSecond {
  time_t sec = -1;
  char rfc3164_[16];  // "Nov 23 08:36:03", day padded with a space
  char iso_[20];  // "2026-11-23T08:36:03"
  char tz_[7];  // "+01:00"
  char accept_[21];  // "23/Nov/2026:08:36:03"

  std::string_view rfc3164() const { return {rfc3164_, 15}; }
  std::string_view accept() const { return {accept_, 20}; }
};

// The calling thread's cached breakdown of `sec` (local time).
const LocalSecond& local_second(time_t sec);

// "2026-11-23T08:36:03.123456+01:00" (32 bytes) into `out`; returns 32.
std::size_t write_iso(const LocalSecond& s, int usec, char* out);

}  // namespace sluice::log
