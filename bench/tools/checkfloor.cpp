// checkfloor: the least CPU a health checker can spend, for the checks
// benchmark (bench/scenarios/checks.py). It checks the same kind of loopback
// listeners at the same rate as the proxies, with nothing but the system calls
// of one check: no configuration, no state machine, no results, no logs. Its
// CPU is the floor under any checker built on the socket API, measured in the
// same run as Sluice and haproxy.
//
//   checkfloor --ports-file F --skip N --count N [--http] --inter-ms 1000
//              --seconds S
//
// Checks the ports on lines N+1..N+count of F, each every inter (spread
// evenly over the interval), waking every 8 ms like Sluice's check timers.
// A TCP check is socket, TCP_QUICKACK off, connect, connect again (the
// result: on loopback the handshake completes inside the first call),
// SO_LINGER 0, close; the listener never gets a child socket and the close
// is an RST. An HTTP check connects, sends a GET, waits (epoll, which wakes
// the process when the answer comes) for the answer, reads it and closes with
// an RST.
// Standalone on purpose: no dependency on src/, nothing but POSIX + Linux.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tool_util.h"

namespace {

using benchtool::die;
using benchtool::now_ns;

const char kRequest[] = "GET /check HTTP/1.0\r\n\r\n";

void close_rst(int fd) {
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  benchtool::name = "checkfloor";
  std::string ports_file;
  std::size_t skip = 0, count = 0;
  bool http = false;
  std::int64_t inter_ms = 1000;
  double seconds = 30;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return benchtool::option_value(argc, argv, i); };
    if (a == "--ports-file")
      ports_file = next();
    else if (a == "--skip")
      skip = static_cast<std::size_t>(std::atoll(next()));
    else if (a == "--count")
      count = static_cast<std::size_t>(std::atoll(next()));
    else if (a == "--http")
      http = true;
    else if (a == "--inter-ms")
      inter_ms = std::atoll(next());
    else if (a == "--seconds")
      seconds = std::atof(next());
    else {
      std::fprintf(stderr, "checkfloor: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  std::vector<sockaddr_in> targets;
  {
    std::ifstream in(ports_file);
    std::size_t line = 0;
    for (unsigned port = 0; in >> port; ++line) {
      if (line < skip || targets.size() >= count) continue;
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sa.sin_port = htons(static_cast<std::uint16_t>(port));
      targets.push_back(sa);
    }
  }
  if (targets.empty() || inter_ms <= 0) {
    std::fprintf(stderr, "checkfloor: no ports to check in %s\n", ports_file.c_str());
    return 2;
  }
  benchtool::raise_fd_limit();
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");

  const std::int64_t inter_ns = inter_ms * 1000000LL;
  const std::int64_t tick_ns = 8000000;
  const std::int64_t t0 = now_ns();
  const std::int64_t end = t0 + static_cast<std::int64_t>(seconds * 1e9);
  // Server i is due at t0 + i * inter / n + k * inter.
  const std::size_t n = targets.size();
  std::size_t next_index = 0;
  std::int64_t round_start = t0;
  std::uint64_t checks = 0, failed = 0;
  std::vector<epoll_event> evs(256);
  char buf[1024];
  const int zero = 0;
  for (std::int64_t wake = t0; wake < end; wake += tick_ns) {
    // Sleep until the tick; an HTTP check's answer wakes the loop when it comes.
    for (std::int64_t now = now_ns(); now < wake; now = now_ns()) {
      timespec left{static_cast<time_t>((wake - now) / 1000000000LL),
                    static_cast<long>((wake - now) % 1000000000LL)};
      if (!http) {
        (void)::clock_nanosleep(CLOCK_MONOTONIC, 0, &left, nullptr);
        continue;
      }
      int got = ::epoll_pwait2(ep, evs.data(), static_cast<int>(evs.size()), &left, nullptr);
      for (int k = 0; k < got; ++k) {
        int fd = evs[k].data.fd;
        if (::recv(fd, buf, sizeof buf, 0) <= 0) ++failed;
        close_rst(fd);  // closing drops it from the epoll set
      }
    }
    // Every check due by the end of this tick, as Sluice's 8 ms timer slots do.
    const std::int64_t due_by = wake + tick_ns;
    for (std::size_t guard = 0; guard < n; ++guard) {
      std::int64_t due = round_start + static_cast<std::int64_t>(next_index) * inter_ns /
                                           static_cast<std::int64_t>(n);
      if (due >= due_by) break;
      const sockaddr_in& sa = targets[next_index];
      if (++next_index == n) {
        next_index = 0;
        round_start += inter_ns;
      }
      ++checks;
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) die("socket");
      if (!http) ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
      const auto* addr = reinterpret_cast<const sockaddr*>(&sa);
      (void)::connect(fd, addr, sizeof sa);
      if (::connect(fd, addr, sizeof sa) != 0 && errno != EISCONN) {
        ++failed;
        close_rst(fd);
        continue;
      }
      if (!http) {
        close_rst(fd);
        continue;
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      if (::send(fd, kRequest, sizeof kRequest - 1, MSG_NOSIGNAL) < 0 ||
          ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        ++failed;
        close_rst(fd);
      }
    }
  }
  std::printf("{\"checks\":%llu,\"failed\":%llu}\n", static_cast<unsigned long long>(checks),
              static_cast<unsigned long long>(failed));
  return 0;
}
