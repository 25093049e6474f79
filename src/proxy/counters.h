#pragma once
// Counters a proxy or server keeps for stats. Atomics, updated a handful of
// times per session (start, connect, end), never per read or write: bytes are
// summed in the session and added once at its end.

#include <atomic>
#include <cstdint>

namespace sluice::proxy {

using Counter = std::atomic<std::uint64_t>;

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

  // Count a new session and keep the high-water mark.
  std::uint32_t enter() {
    std::uint32_t now = cur.fetch_add(1, std::memory_order_relaxed) + 1;
    std::uint32_t m = max.load(std::memory_order_relaxed);
    while (now > m && !max.compare_exchange_weak(m, now, std::memory_order_relaxed)) {
    }
    total.fetch_add(1, std::memory_order_relaxed);
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
    std::uint32_t now = cur.load(std::memory_order_relaxed);
    std::uint32_t m = max.load(std::memory_order_relaxed);
    while (now > m && !max.compare_exchange_weak(m, now, std::memory_order_relaxed)) {
    }
    total.fetch_add(1, std::memory_order_relaxed);
  }
  void leave() { cur.fetch_sub(1, std::memory_order_relaxed); }
};

}  // namespace sluice::proxy
