#include "log/timefmt.h"

#include <cstring>

namespace sluice::log {

namespace {
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void two(char* p, int v) {
  p[0] = static_cast<char>('0' + (v / 10) % 10);
  p[1] = static_cast<char>('0' + v % 10);
}
}  // namespace

const LocalSecond& local_second(time_t sec) {
  thread_local LocalSecond cache;
  if (cache.sec == sec) return cache;
  tm t{};
  localtime_r(&sec, &t);
  const char* mon = kMonths[t.tm_mon % 12];
  // "Nov 23 08:36:03"
  std::memcpy(cache.rfc3164_, mon, 3);
  cache.rfc3164_[3] = ' ';
  cache.rfc3164_[4] = t.tm_mday < 10 ? ' ' : static_cast<char>('0' + t.tm_mday / 10);
  cache.rfc3164_[5] = static_cast<char>('0' + t.tm_mday % 10);
  cache.rfc3164_[6] = ' ';
  two(cache.rfc3164_ + 7, t.tm_hour);
  cache.rfc3164_[9] = ':';
  two(cache.rfc3164_ + 10, t.tm_min);
  cache.rfc3164_[12] = ':';
  two(cache.rfc3164_ + 13, t.tm_sec);
  cache.rfc3164_[15] = '\0';
  // "2026-11-23T08:36:03"
  const int year = t.tm_year + 1900;
  char* p = cache.iso_;
  two(p, year / 100);
  two(p + 2, year % 100);
  p[4] = '-';
  two(p + 5, t.tm_mon + 1);
  p[7] = '-';
  two(p + 8, t.tm_mday);
  p[10] = 'T';
  std::memcpy(p + 11, cache.rfc3164_ + 7, 8);
  p[19] = '\0';
  // "+01:00"
  const long off = t.tm_gmtoff / 60;
  const long aoff = off < 0 ? -off : off;
  cache.tz_[0] = off < 0 ? '-' : '+';
  two(cache.tz_ + 1, static_cast<int>(aoff / 60));
  cache.tz_[3] = ':';
  two(cache.tz_ + 4, static_cast<int>(aoff % 60));
  cache.tz_[6] = '\0';
  // "23/Nov/2026:08:36:03"
  p = cache.accept_;
  two(p, t.tm_mday);
  p[2] = '/';
  std::memcpy(p + 3, mon, 3);
  p[6] = '/';
  std::memcpy(p + 7, cache.iso_, 4);
  p[11] = ':';
  std::memcpy(p + 12, cache.rfc3164_ + 7, 8);
  p[20] = '\0';
  cache.sec = sec;
  return cache;
}

std::size_t write_iso(const LocalSecond& s, int usec, char* out) {
  std::memcpy(out, s.iso_, 19);
  out[19] = '.';
  for (int i = 25; i >= 20; --i) {
    out[i] = static_cast<char>('0' + usec % 10);
    usec /= 10;
  }
  std::memcpy(out + 26, s.tz_, 6);
  return 32;
}

}  // namespace sluice::log
