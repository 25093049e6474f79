// checkfarm: many cheap health-check targets in one process, for the checks
// benchmark (bench/scenarios/checks.py). Binds GROUPS x N loopback ports,
// accepts every connection, answers HTTP requests with a 200 (--http) or
// just closes, and measures, per port, the time between successive checks.
//
//   checkfarm --groups 2 --per-group 2000 --ports-file F [--http]
//             --inter-ms 1000 --warmup S --seconds S
//
// A check is timed by its SYN, seen on an AF_PACKET socket on loopback (a
// connect-only check resets before accept() would ever see it); without
// CAP_NET_RAW the farm times accepts instead (HTTP checks only).
// Writes the ports (group by group, one per line) to F once listening, then
// after warmup+seconds prints one JSON line: per group, the lateness of the
// check intervals measured in the window (interval - inter, microseconds;
// p50/p99/max), the number of intervals and of distinct ports checked.
// Standalone on purpose: no dependency on src/, nothing but POSIX + Linux.
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tool_util.h"

namespace {

using benchtool::die;
using benchtool::now_ns;


struct Port {
  int fd = -1;
  unsigned group = 0;
  std::int64_t last_ns = 0;
  std::uint64_t in_window = 0;
};

// epoll data: listeners are 0..P-1; connections are tagged with the high bit;
// the packet socket is kSynTag.
constexpr std::uint64_t kConnTag = 1ULL << 63;
constexpr std::uint64_t kSynTag = 1ULL << 62;

// IPv4 TCP segments with SYN set and ACK clear (a client's connect).
int open_syn_socket() {
  int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IP));
  if (fd < 0) return -1;
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),  // IP protocol
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 5),
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),  // X = IP header length
      BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),  // TCP flags
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 64),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_IP);
  ll.sll_ifindex = static_cast<int>(::if_nametoindex("lo"));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll) < 0) {
    ::close(fd);
    return -1;
  }
  int rcv = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
  return fd;
}

const char kReply[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";

}  // namespace

int main(int argc, char** argv) {
  benchtool::name = "checkfarm";
  unsigned groups = 2, per_group = 2000;
  bool http = false;
  std::int64_t inter_ms = 1000;
  double warmup = 10, seconds = 20;
  std::string ports_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return benchtool::option_value(argc, argv, i); };
    if (a == "--groups") groups = static_cast<unsigned>(std::atoi(next()));
    else if (a == "--per-group") per_group = static_cast<unsigned>(std::atoi(next()));
    else if (a == "--http") http = true;
    else if (a == "--inter-ms") inter_ms = std::atoll(next());
    else if (a == "--warmup") warmup = std::atof(next());
    else if (a == "--seconds") seconds = std::atof(next());
    else if (a == "--ports-file") ports_file = next();
    else {
      std::fprintf(stderr, "checkfarm: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  benchtool::raise_fd_limit();

  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  std::vector<Port> ports(static_cast<std::size_t>(groups) * per_group);
  std::string list;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) < 0) die("bind");
    if (::listen(fd, 1024) < 0) die("listen");
    socklen_t len = sizeof in;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
    ports[i].fd = fd;
    ports[i].group = static_cast<unsigned>(i / per_group);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    list += std::to_string(ntohs(in.sin_port)) + "\n";
  }
  std::vector<std::int32_t> by_port(65536, -1);
  {
    std::size_t i = 0;
    for (std::size_t pos = 0; pos < list.size(); ++i) {
      std::size_t nl = list.find('\n', pos);
      by_port[static_cast<std::size_t>(std::atoi(list.c_str() + pos))] = static_cast<std::int32_t>(i);
      pos = nl + 1;
    }
  }
  int syn = open_syn_socket();
  if (syn >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kSynTag;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, syn, &ev) < 0) die("epoll_ctl");
  } else {
    std::fprintf(stderr, "checkfarm: no packet socket (%s): timing accepts\n",
                 std::strerror(errno));
  }
  if (!ports_file.empty()) {
    std::string tmp = ports_file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) die("ports file");
    std::fwrite(list.data(), 1, list.size(), f);
    std::fclose(f);
    std::rename(tmp.c_str(), ports_file.c_str());
  }

  const std::int64_t t0 = now_ns();
  const std::int64_t window_start = t0 + static_cast<std::int64_t>(warmup * 1e9);
  const std::int64_t end = window_start + static_cast<std::int64_t>(seconds * 1e9);
  const std::int64_t inter_ns = inter_ms * 1000000LL;
  std::vector<std::vector<std::int64_t>> late_us(groups);
  std::vector<std::uint64_t> accepted(groups, 0);
  std::vector<epoll_event> evs(512);
  char buf[4096];
  auto record = [&](Port& p, std::int64_t t) {
    ++accepted[p.group];
    if (p.last_ns != 0 && t >= window_start) {
      late_us[p.group].push_back((t - p.last_ns - inter_ns) / 1000);
      ++p.in_window;
    }
    p.last_ns = t;
  };
  for (;;) {
    std::int64_t now = now_ns();
    if (now >= end) break;
    int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()),
                         static_cast<int>((end - now) / 1000000 + 1));
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int k = 0; k < n; ++k) {
      std::uint64_t tag = evs[k].data.u64;
      if (tag == kSynTag) {
        unsigned char pkt[64];
        for (int guard = 0; guard < 4096; ++guard) {
          ssize_t r = ::recv(syn, pkt, sizeof pkt, 0);
          if (r < 0) break;
          std::int64_t t = now_ns();
          std::size_t ihl = static_cast<std::size_t>(pkt[0] & 0x0F) * 4;
          if (static_cast<std::size_t>(r) < ihl + 4) continue;
          unsigned dport = (static_cast<unsigned>(pkt[ihl + 2]) << 8) | pkt[ihl + 3];
          std::int32_t idx = by_port[dport];
          if (idx >= 0) record(ports[static_cast<std::size_t>(idx)], t);
        }
        continue;
      }
      if (tag & kConnTag) {
        int c = static_cast<int>(tag & 0xFFFFFFFF);
        ssize_t r = ::recv(c, buf, sizeof buf, 0);
        if (r > 0 && std::string_view(buf, static_cast<std::size_t>(r)).find("\r\n\r\n") ==
                         std::string_view::npos)
          continue;  // the rest of the head comes later
        if (r > 0) (void)!::send(c, kReply, sizeof kReply - 1, MSG_NOSIGNAL);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        ::close(c);  // closing drops it from the epoll set
        continue;
      }
      Port& p = ports[tag];
      for (;;) {
        int c = ::accept4(p.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) break;
        if (syn < 0) record(p, now_ns());
        if (!http) {
          ::close(c);
          continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kConnTag | static_cast<std::uint32_t>(c);
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0) ::close(c);
      }
    }
  }
  auto pct = [](std::vector<std::int64_t>& v, double q) -> std::int64_t {
    if (v.empty()) return 0;
    std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
  };
  std::string out = "{\"groups\":[";
  for (unsigned g = 0; g < groups; ++g) {
    auto& v = late_us[g];
    std::sort(v.begin(), v.end());
    unsigned seen = 0;
    for (const auto& p : ports)
      if (p.group == g && p.in_window > 0) ++seen;
    char item[400];
    std::snprintf(item, sizeof item,
                  "%s{\"intervals\":%zu,\"ports_checked\":%u,\"connects\":%llu,\"p1_us\":%lld,"
                  "\"p50_us\":%lld,\"p99_us\":%lld,\"max_us\":%lld}",
                  g ? "," : "", v.size(), seen, static_cast<unsigned long long>(accepted[g]),
                  static_cast<long long>(pct(v, 0.01)), static_cast<long long>(pct(v, 0.5)),
                  static_cast<long long>(pct(v, 0.99)),
                  static_cast<long long>(v.empty() ? 0 : v.back()));
    out += item;
  }
  out += "]}";
  std::printf("%s\n", out.c_str());
  return 0;
}
