// tcpbench: a small epoll-based TCP load generator and origin for `make bench`.
//
// Servers (run until SIGTERM/SIGINT or --max-seconds; print "ready PORT" once
// listening, then one JSON summary line on exit):
//   tcpbench sink     --listen 127.0.0.1:PORT            read and discard
//   tcpbench echo     --listen 127.0.0.1:PORT            echo what is read
// Clients (print one JSON line):
//   tcpbench source   --connect HOST:PORT [--bytes N] [--duration S] [--chunk B]
//       one connection, large blocking writes; after the last byte it shuts
//       down its write side and waits for EOF, so the time includes delivery.
//   tcpbench connrate --connect HOST:PORT [-c C] [--duration S | --count N]
//                     [--size 64] [--src-ips K] [--timeout S]
//       C concurrent workers, each: connect, send SIZE bytes, read SIZE bytes
//       back, close; repeated for S seconds or until N connections in total.
//
// Standalone on purpose: no dependency on src/, nothing but POSIX + Linux.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "tcpbench: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "tcpbench: %s\n"
               "usage: tcpbench sink|echo --listen ADDR:PORT [--max-seconds S]\n"
               "       tcpbench source --connect ADDR:PORT [--bytes N] [--duration S] [--chunk B]\n"
               "       tcpbench connrate --connect ADDR:PORT [-c C] [--duration S | --count N]\n"
               "                [--size B] [--src-ips K] [--timeout S]\n",
               msg);
  std::exit(2);
}

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

sockaddr_in parse_addr(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) usage("address must be IP:PORT");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::atoi(s.c_str() + colon + 1)));
  std::string host = s.substr(0, colon);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) usage("bad IPv4 address");
  return a;
}

struct Options {
  std::string mode;
  std::string listen;
  std::string connect;
  uint64_t bytes = UINT64_MAX;
  double duration = 0;  // 0: unbounded by time (needs --bytes / --count)
  uint64_t count = 0;   // connrate: total connections (0: time-bounded)
  size_t chunk = 256 * 1024;
  int concurrency = 32;
  size_t size = 64;
  int src_ips = 1;
  double timeout = 60;       // hard bound on a client run beyond --duration
  double max_seconds = 3600;  // hard bound on a server's life
};

Options parse(int argc, char** argv) {
  if (argc < 2) usage("missing mode");
  Options o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string_view k = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) usage("missing value");
      return argv[++i];
    };
    if (k == "--listen") o.listen = val();
    else if (k == "--connect") o.connect = val();
    else if (k == "--bytes") o.bytes = std::strtoull(val(), nullptr, 10);
    else if (k == "--duration") o.duration = std::atof(val());
    else if (k == "--count") o.count = std::strtoull(val(), nullptr, 10);
    else if (k == "--chunk") o.chunk = std::strtoul(val(), nullptr, 10);
    else if (k == "-c" || k == "--concurrency") o.concurrency = std::atoi(val());
    else if (k == "--size") o.size = std::strtoul(val(), nullptr, 10);
    else if (k == "--src-ips") o.src_ips = std::atoi(val());
    else if (k == "--timeout") o.timeout = std::atof(val());
    else if (k == "--max-seconds") o.max_seconds = std::atof(val());
    else usage("unknown option");
  }
  if (o.chunk == 0 || o.size == 0 || o.concurrency < 1 || o.src_ips < 1 || o.src_ips > 250)
    usage("bad numeric option");
  return o;
}

// ---------------------------------------------------------------- servers

struct ServerConn {
  int fd = -1;
  uint64_t bytes = 0;
  std::string pending;  // echo: bytes not yet written back
};

int run_server(const Options& o, bool echo) {
  if (o.listen.empty()) usage("--listen required");
  sockaddr_in addr = parse_addr(o.listen);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("bind");
  if (listen(lfd, 4096) < 0) die("listen");
  socklen_t alen = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("signalfd");

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  // data.u64: 0 = listener, 1 = signalfd, otherwise fd + 2.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.u64 = 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

  std::printf("ready %u\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  std::vector<ServerConn> conns;
  const size_t bufsize = echo ? 64 * 1024 : 1024 * 1024;
  std::vector<char> buf(bufsize);
  uint64_t total_bytes = 0, accepted = 0, closed = 0;
  const double start = now_s();
  const double deadline = start + o.max_seconds;

  auto close_conn = [&](ServerConn& c) {
    if (!echo) {
      std::printf("{\"event\":\"close\",\"bytes\":%llu}\n", static_cast<unsigned long long>(c.bytes));
      std::fflush(stdout);
    }
    close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
    c.bytes = 0;
    c.pending.clear();
    ++closed;
  };

  epoll_event events[256];
  bool stop = false;
  while (!stop) {
    double left = deadline - now_s();
    if (left <= 0) break;
    int timeout_ms = left > 1e6 ? -1 : static_cast<int>(left * 1000) + 1;
    int n = epoll_wait(ep, events, 256, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == 1) {
        stop = true;
        continue;
      }
      if (tag == 0) {  // one accept per readiness event (level-triggered listener)
        int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++accepted;
        if (static_cast<size_t>(fd) >= conns.size()) conns.resize(static_cast<size_t>(fd) + 64);
        conns[static_cast<size_t>(fd)].fd = fd;
        epoll_event cev{};
        cev.events = EPOLLIN;
        cev.data.u64 = static_cast<uint64_t>(fd) + 2;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        continue;
      }
      ServerConn& c = conns[tag - 2];
      if (c.fd < 0) continue;
      if (echo && (events[i].events & EPOLLOUT) && !c.pending.empty()) {
        ssize_t w = write(c.fd, c.pending.data(), c.pending.size());
        if (w > 0) c.pending.erase(0, static_cast<size_t>(w));
        if (c.pending.empty()) {
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.u64 = tag;
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &cev);
        }
      }
      if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      // Read until a short read: the socket is then drained for now.
      for (;;) {
        ssize_t r = read(c.fd, buf.data(), bufsize);
        if (r > 0) {
          c.bytes += static_cast<uint64_t>(r);
          total_bytes += static_cast<uint64_t>(r);
          if (echo) {
            if (c.pending.empty()) {
              ssize_t w = write(c.fd, buf.data(), static_cast<size_t>(r));
              if (w < 0 && errno != EAGAIN) {
                close_conn(c);
                break;
              }
              if (w < 0) w = 0;
              if (w < r) {
                c.pending.assign(buf.data() + w, static_cast<size_t>(r - w));
                epoll_event cev{};
                cev.events = EPOLLIN | EPOLLOUT;
                cev.data.u64 = tag;
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &cev);
              }
            } else {
              c.pending.append(buf.data(), static_cast<size_t>(r));
            }
          }
          if (static_cast<size_t>(r) < bufsize) break;
          continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        close_conn(c);  // EOF or error
        break;
      }
    }
  }
  double elapsed = now_s() - start;
  std::printf("{\"mode\":\"%s\",\"accepted\":%llu,\"closed\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n",
              echo ? "echo" : "sink", static_cast<unsigned long long>(accepted),
              static_cast<unsigned long long>(closed), static_cast<unsigned long long>(total_bytes),
              elapsed);
  std::fflush(stdout);
  return 0;
}

// ---------------------------------------------------------------- source

int run_source(const Options& o) {
  if (o.connect.empty()) usage("--connect required");
  if (o.duration <= 0 && o.bytes == UINT64_MAX) usage("source needs --bytes or --duration");
  sockaddr_in addr = parse_addr(o.connect);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("connect");
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(o.timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  std::vector<char> buf(o.chunk, 'x');
  const double start = now_s();
  const double deadline = o.duration > 0 ? start + o.duration : start + o.timeout;
  uint64_t sent = 0;
  int err = 0;
  while (sent < o.bytes) {
    size_t want = o.chunk;
    if (o.bytes - sent < want) want = static_cast<size_t>(o.bytes - sent);
    ssize_t w = write(fd, buf.data(), want);
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    sent += static_cast<uint64_t>(w);
    if (now_s() >= deadline) break;
  }
  const double sent_at = now_s();
  shutdown(fd, SHUT_WR);
  // Wait for the far end to close: every byte has then reached the sink.
  bool eof = false;
  char rb[4096];
  for (;;) {
    ssize_t r = read(fd, rb, sizeof rb);
    if (r > 0) continue;
    if (r < 0 && errno == EINTR) continue;
    eof = r == 0;
    if (r < 0 && !err) err = errno;
    break;
  }
  const double end = now_s();
  close(fd);
  double secs = end - start;
  std::printf("{\"mode\":\"source\",\"bytes\":%llu,\"seconds\":%.6f,\"send_seconds\":%.6f,"
              "\"mb_per_s\":%.1f,\"eof\":%s,\"error\":\"%s\"}\n",
              static_cast<unsigned long long>(sent), secs, sent_at - start,
              secs > 0 ? static_cast<double>(sent) / secs / 1e6 : 0.0, eof ? "true" : "false",
              err ? std::strerror(err) : "");
  return err || !eof ? 1 : 0;
}

// ---------------------------------------------------------------- connrate

enum class St { Idle, Connecting, Waiting };

struct Worker {
  int fd = -1;
  St st = St::Idle;
  size_t got = 0;
  double started = 0;
};

int run_connrate(const Options& o) {
  if (o.connect.empty()) usage("--connect required");
  if (o.duration <= 0 && o.count == 0) usage("connrate needs --duration or --count");
  sockaddr_in addr = parse_addr(o.connect);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  std::vector<Worker> ws(static_cast<size_t>(o.concurrency));
  std::vector<char> msg(o.size, 'p');
  std::vector<char> rbuf(o.size < 4096 ? 4096 : o.size);

  uint64_t started = 0, completed = 0, err_connect = 0, err_reset = 0, err_short = 0,
           err_timeout = 0, err_addr = 0;
  const double start = now_s();
  const double stop_new = o.duration > 0 ? start + o.duration : start + o.timeout;
  const double hard_end = stop_new + (o.duration > 0 ? 10.0 : 0.0);
  double last_done = start;
  unsigned src_rr = 0;

  auto may_start = [&](double t) {
    if (o.count > 0 && started >= o.count) return false;
    return t < stop_new;
  };
  auto finish = [&](Worker& w) {
    if (w.fd >= 0) close(w.fd);
    w.fd = -1;
    w.st = St::Idle;
    w.got = 0;
  };
  auto begin = [&](size_t idx, double t) {
    Worker& w = ws[idx];
    // Bounded: a worker whose connect fails at once retries a limited number of times.
    for (int attempt = 0; attempt < 100 && may_start(t); ++attempt) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) die("socket");
      if (o.src_ips > 1) {
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000001u + (src_rr++ % static_cast<unsigned>(o.src_ips)));
        if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) < 0) die("bind source");
      }
      ++started;
      int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      if (r < 0 && errno != EINPROGRESS) {
        if (errno == EADDRNOTAVAIL) ++err_addr;
        else ++err_connect;
        close(fd);
        continue;
      }
      w.fd = fd;
      w.st = St::Connecting;
      w.got = 0;
      w.started = t;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
      ev.data.u64 = idx;
      if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
      return;
    }
  };

  double t = now_s();
  for (size_t i = 0; i < ws.size(); ++i) begin(i, t);

  epoll_event events[1024];
  for (;;) {
    size_t active = 0;
    for (auto& w : ws) active += w.st != St::Idle;
    if (active == 0) break;
    t = now_s();
    if (t >= hard_end) break;
    int n = epoll_wait(ep, events, 1024, 200);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    t = now_s();
    for (int i = 0; i < n; ++i) {
      size_t idx = events[i].data.u64;
      Worker& w = ws[idx];
      uint32_t e = events[i].events;
      if (w.st == St::Idle) continue;
      if (w.st == St::Connecting) {
        if (e & (EPOLLERR | EPOLLHUP)) {
          ++err_connect;
          finish(w);
          begin(idx, t);
          continue;
        }
        if (!(e & EPOLLOUT)) continue;
        ssize_t wr = write(w.fd, msg.data(), msg.size());
        if (wr != static_cast<ssize_t>(msg.size())) {
          ++err_connect;
          finish(w);
          begin(idx, t);
          continue;
        }
        w.st = St::Waiting;
        if (!(e & EPOLLIN)) continue;
      }
      if (!(e & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      bool done = false, failed = false;
      for (;;) {
        ssize_t r = read(w.fd, rbuf.data(), rbuf.size());
        if (r > 0) {
          w.got += static_cast<size_t>(r);
          if (w.got >= o.size) {
            done = true;
            break;
          }
          continue;
        }
        if (r < 0 && errno == EAGAIN) break;
        if (r < 0 && errno == EINTR) continue;
        failed = true;  // EOF before the echo, or reset
        if (r == 0) ++err_short;
        else ++err_reset;
        break;
      }
      if (done) {
        ++completed;
        last_done = t;
      }
      if (done || failed) {
        finish(w);
        begin(idx, t);
      }
    }
    // Per-connection timeout, checked at most every 200 ms.
    for (size_t i = 0; i < ws.size(); ++i) {
      if (ws[i].st != St::Idle && t - ws[i].started > 10.0) {
        ++err_timeout;
        finish(ws[i]);
        begin(i, t);
      }
    }
  }
  for (auto& w : ws) {
    if (w.st != St::Idle) {
      ++err_timeout;
      finish(w);
    }
  }
  double secs = last_done - start;
  uint64_t errors = err_connect + err_reset + err_short + err_timeout + err_addr;
  std::printf("{\"mode\":\"connrate\",\"started\":%llu,\"completed\":%llu,\"errors\":%llu,"
              "\"err_connect\":%llu,\"err_reset\":%llu,\"err_short\":%llu,\"err_timeout\":%llu,"
              "\"err_addrnotavail\":%llu,\"seconds\":%.6f,\"conn_per_s\":%.1f,\"concurrency\":%d}\n",
              static_cast<unsigned long long>(started), static_cast<unsigned long long>(completed),
              static_cast<unsigned long long>(errors), static_cast<unsigned long long>(err_connect),
              static_cast<unsigned long long>(err_reset), static_cast<unsigned long long>(err_short),
              static_cast<unsigned long long>(err_timeout), static_cast<unsigned long long>(err_addr),
              secs, secs > 0 ? static_cast<double>(completed) / secs : 0.0, o.concurrency);
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Options o = parse(argc, argv);
  if (o.mode == "sink") return run_server(o, false);
  if (o.mode == "echo") return run_server(o, true);
  if (o.mode == "source") return run_source(o);
  if (o.mode == "connrate") return run_connrate(o);
  usage("unknown mode");
}
