// Helpers shared by the standalone bench tools (checkfarm, checkfloor):
// nothing from src/, so they build while Sluice is mid-edit.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace benchtool {

// The tool's name in messages; set first thing in main().
inline const char* name = "benchtool";

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "%s: %s: %s\n", name, what, std::strerror(errno));
  std::exit(1);
}

inline std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// The value after option argv[i] (advancing i), or exit 2 when there is none.
inline const char* option_value(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "%s: %s needs a value\n", name, argv[i]);
    std::exit(2);
  }
  return argv[++i];
}

// Thousands of sockets: the descriptor limit up to its hard maximum.
inline void raise_fd_limit() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace benchtool
