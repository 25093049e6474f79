#pragma once
// Counters a proxy or server keeps for stats. Atomics, updated a handful of
// times per session (start, connect, end), never per read or write: bytes are
// summed in the session and added once at its end.

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace sluice::proxy {

using Counter = std::atomic<std::uint64_t>;

// Coarse clocks (vDSO, no system call): enough for per-second rates and
// "seconds since" fields.
inline std::int64_t coarse_steady_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
inline std::int64_t coarse_wall_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec);
}

inline void raise_max(std::atomic<std::uint32_t>& m, std::uint32_t v) {
  std::uint32_t cur = m.load(std::memory_order_relaxed);
  while (v > cur && !m.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// Events per second over the last elapsed second, as HAProxy's freq_ctr:
// the current second's count plus the previous second's, weighted by the
// part of it still inside the one-second window. `max` keeps the peak.
class RateCounter {
 public:
  void add(std::int64_t now_ms) {
    const std::uint64_t sec = static_cast<std::uint64_t>(now_ms / 1000);
    std::uint64_t c = cur_.load(std::memory_order_relaxed);
    for (;;) {
      if ((c >> 32) == (sec & 0xffffffffU)) {
        cur_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      const std::uint64_t next = ((sec & 0xffffffffU) << 32) | 1U;
      if (cur_.compare_exchange_weak(c, next, std::memory_order_relaxed)) {
        const bool adjacent = (c >> 32) + 1 == (sec & 0xffffffffU);
        prev_.store(adjacent ? (c & 0xffffffffU) : 0, std::memory_order_relaxed);
        break;
      }
    }
    raise_max(max_, read(now_ms));
  }
  std::uint32_t read(std::int64_t now_ms) const {
    const std::uint64_t sec = static_cast<std::uint64_t>(now_ms / 1000) & 0xffffffffU;
    const std::uint64_t c = cur_.load(std::memory_order_relaxed);
    const std::uint64_t in_sec = static_cast<std::uint64_t>(now_ms % 1000);
    const std::uint64_t cnt = c & 0xffffffffU;
    if ((c >> 32) == sec)
      return static_cast<std::uint32_t>(cnt + prev_.load(std::memory_order_relaxed) * (1000 - in_sec) / 1000);
    if ((c >> 32) + 1 == sec) return static_cast<std::uint32_t>(cnt * (1000 - in_sec) / 1000);
    return 0;
  }
  std::uint32_t max() const { return max_.load(std::memory_order_relaxed); }
  void clear_max() { max_.store(0, std::memory_order_relaxed); }
  void clear() {
    cur_.store(0, std::memory_order_relaxed);
    prev_.store(0, std::memory_order_relaxed);
    clear_max();
  }

 private:
  std::atomic<std::uint64_t> cur_{0};  // second << 32 | count in that second
  std::atomic<std::uint64_t> prev_{0};  // count of the second before
  std::atomic<std::uint32_t> max_{0};
};

// A sliding average over the last 1024 samples (HAProxy's swrate, with the
// window growing from 1 until 1024 samples were seen) and the maximum.
class TimeAverage {
 public:
  static constexpr std::uint64_t kWindow = 1024;
  void add(std::uint64_t v) {
    const std::uint64_t n = std::min<std::uint64_t>(samples_.fetch_add(1, std::memory_order_relaxed) + 1, kWindow);
    std::uint64_t s = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(s, s - (s + n - 1) / n + v, std::memory_order_relaxed)) {
    }
    raise_max(max_, static_cast<std::uint32_t>(std::min<std::uint64_t>(v, 0xffffffffU)));
  }
  std::uint32_t average() const {
    const std::uint64_t n = std::min<std::uint64_t>(samples_.load(std::memory_order_relaxed), kWindow);
    if (n == 0) return 0;
    return static_cast<std::uint32_t>((sum_.load(std::memory_order_relaxed) + n - 1) / n);
  }
  std::uint32_t max() const { return max_.load(std::memory_order_relaxed); }
  void clear_max() { max_.store(0, std::memory_order_relaxed); }
  void clear() {
    sum_.store(0, std::memory_order_relaxed);
    samples_.store(0, std::memory_order_relaxed);
    clear_max();
  }

 private:
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> samples_{0};
  std::atomic<std::uint32_t> max_{0};
};

struct SessionCounters {
  std::atomic<std::uint32_t> cur{0};  // scur
  std::atomic<std::uint32_t> max{0};  // smax
  Counter total{0};  // stot
  Counter bytes_in{0};  // bin: from the client
  Counter bytes_out{0};  // bout: to the client
  Counter connect_errors{0};  // econ
  Counter retries{0};  // wretr
  Counter redispatches{0};  // wredis
  Counter lbtot{0};  // times picked by balancing (server) / sessions balanced (backend)
  Counter denied{0};  // dreq-like: refused at accept (frontend)
  Counter queue_timeouts{0};
  // HTTP and error counters (stats/ reads them; see stats/columns.h).
  Counter hrsp[6] = {};  // 1xx..5xx, other
  Counter requests{0};  // req_tot
  Counter denied_resp{0};  // dresp
  Counter req_errors{0};  // ereq (frontend)
  Counter resp_errors{0};  // eresp
  Counter cli_aborts{0};  // cli_abrt
  Counter srv_aborts{0};  // srv_abrt
  Counter connects{0};  // connect: connection attempts to servers
  Counter reuses{0};  // reuse: idle server connections reused
  Counter internal_errors{0};  // eint
  std::atomic<std::int64_t> last_session_s{0};  // wall seconds; 0: never
  RateCounter sess_rate;  // rate / rate_max
  RateCounter req_rate;  // req_rate / req_rate_max (frontend)
  TimeAverage qtime, ctime, rtime, ttime;

  void count_session() {
    total.fetch_add(1, std::memory_order_relaxed);
    sess_rate.add(coarse_steady_ms());
    last_session_s.store(coarse_wall_s(), std::memory_order_relaxed);
  }
  // Count a new session and keep the high-water mark.
  std::uint32_t enter() {
    std::uint32_t now = cur.fetch_add(1, std::memory_order_relaxed) + 1;
    raise_max(max, now);
    count_session();
    return now;
  }
  // Take a place unless `limit` (non-zero) are already taken; entered()
  // then counts it as a session, leave() gives it back.
  bool try_reserve(std::uint32_t limit) {
    std::uint32_t c = cur.load(std::memory_order_relaxed);
    do {
      if (limit != 0 && c >= limit) return false;
    } while (!cur.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel));
    return true;
  }
  void entered() {
    raise_max(max, cur.load(std::memory_order_relaxed));
    count_session();
  }
  void leave() { cur.fetch_sub(1, std::memory_order_relaxed); }
  void count_status(int status) {
    int cls = status >= 100 && status < 600 ? status / 100 - 1 : 5;
    hrsp[cls].fetch_add(1, std::memory_order_relaxed);
  }

  // `clear counters`: maxima only; `clear counters all`: everything but
  // the current values.
  void clear_maxima() {
    max.store(cur.load(std::memory_order_relaxed), std::memory_order_relaxed);
    sess_rate.clear_max();
    req_rate.clear_max();
    qtime.clear_max();
    ctime.clear_max();
    rtime.clear_max();
    ttime.clear_max();
  }
  void clear_all() {
    clear_maxima();
    for (Counter* c : {&total, &bytes_in, &bytes_out, &connect_errors, &retries, &redispatches,
                       &lbtot, &denied, &queue_timeouts, &requests, &denied_resp, &req_errors,
                       &resp_errors, &cli_aborts, &srv_aborts, &connects, &reuses,
                       &internal_errors})
      c->store(0, std::memory_order_relaxed);
    for (auto& h : hrsp) h.store(0, std::memory_order_relaxed);
    last_session_s.store(0, std::memory_order_relaxed);
    sess_rate.clear();
    req_rate.clear();
    qtime.clear();
    ctime.clear();
    rtime.clear();
    ttime.clear();
  }
};

}  // namespace sluice::proxy
