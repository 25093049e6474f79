#include "log/logger.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <mutex>

#include "log/timefmt.h"

namespace sluice::log {

namespace {

// getpid() is a system call (glibc no longer caches it); the pid only changes
// across fork(), so cache it and refresh it in the child.
std::atomic<int> g_pid{0};

int cached_pid() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_pid.store(::getpid(), std::memory_order_relaxed);
    pthread_atfork(nullptr, nullptr, [] { g_pid.store(::getpid(), std::memory_order_relaxed); });
  });
  return g_pid.load(std::memory_order_relaxed);
}

socklen_t addr_len(const config::Address& a) {
  if (a.length) return a.length;
  switch (a.family()) {
    case AF_INET:
      return sizeof(sockaddr_in);
    case AF_INET6:
      return sizeof(sockaddr_in6);
    default:
      return sizeof(sockaddr_un);
  }
}

// Appends into a fixed buffer; silently stops at its end.
struct Out {
  char* p;
  std::size_t cap;
  std::size_t n = 0;
  void put(std::string_view s) {
    const std::size_t k = std::min(s.size(), cap - n);
    std::memcpy(p + n, s.data(), k);
    n += k;
  }
  void put(char c) {
    if (n < cap) p[n++] = c;
  }
  void num(long long v) {
    char tmp[24];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
    put(std::string_view(tmp, static_cast<std::size_t>(r.ptr - tmp)));
  }
};

constexpr std::string_view kLevelNames[] = {"emerg",   "alert",  "crit", "err",
                                            "warning", "notice", "info", "debug"};

}  // namespace

struct Logger::Target {
  config::LogTarget conf;
  int fd = -1;  // our socket (Udp / UnixDgram), or 1 / 2
  bool own_fd = false;

  ~Target() {
    if (own_fd && fd >= 0) ::close(fd);
  }
};

Logger::Logger() = default;

Logger::Logger(std::vector<config::LogTarget> targets, std::string tag, std::string hostname)
    : tag_(std::move(tag)), hostname_(std::move(hostname)) {
  cached_pid();
  for (auto& conf : targets) {
    auto t = std::make_unique<Target>();
    t->conf = std::move(conf);
    switch (t->conf.kind) {
      case config::LogTarget::Kind::Udp:
      case config::LogTarget::Kind::UnixDgram:
        t->fd = ::socket(t->conf.addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        t->own_fd = true;
        break;
      case config::LogTarget::Kind::Stdout:
        t->fd = 1;
        break;
      case config::LogTarget::Kind::Stderr:
        t->fd = 2;
        break;
    }
    targets_.push_back(t.get());
    owned_.push_back(std::move(t));
  }
}

Logger::~Logger() = default;

Logger::Logger(Logger&& o) noexcept
    : targets_(std::move(o.targets_)),
      owned_(std::move(o.owned_)),
      tag_(std::move(o.tag_)),
      hostname_(std::move(o.hostname_)),
      dropped_(o.dropped_.load(std::memory_order_relaxed)) {
  o.targets_.clear();
}

Logger& Logger::operator=(Logger&& o) noexcept {
  if (this != &o) {
    targets_ = std::move(o.targets_);
    owned_ = std::move(o.owned_);
    tag_ = std::move(o.tag_);
    hostname_ = std::move(o.hostname_);
    dropped_.store(o.dropped_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    o.targets_.clear();
  }
  return *this;
}

bool Logger::wants(Level level) const {
  for (const Target* t : targets_)
    if (static_cast<int>(level) <= t->conf.max_level) return true;
  return false;
}

void Logger::send(Level level, std::string_view line) const {
  if (targets_.empty()) return;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);  // vDSO
  const LocalSecond& sec = local_second(ts.tv_sec);
  const int usec = static_cast<int>(ts.tv_nsec / 1000);
  const int pid = cached_pid();

  for (const Target* t : targets_) {
    const config::LogTarget& c = t->conf;
    int lvl = static_cast<int>(level);
    if (lvl > c.max_level) continue;
    if (lvl < c.min_level) lvl = c.min_level;  // HAProxy caps, it does not drop
    if (t->fd < 0) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    char hdr_buf[512];
    Out h{hdr_buf, sizeof hdr_buf};
    const int pri = c.facility * 8 + lvl;
    switch (c.format) {
      case config::LogFormat::Rfc3164:
        h.put('<');
        h.num(pri);
        h.put('>');
        h.put(sec.rfc3164());
        h.put(' ');
        if (!hostname_.empty()) {
          h.put(hostname_);
          h.put(' ');
        }
        h.put(tag_);
        h.put('[');
        h.num(pid);
        h.put("]: ");
        break;
      case config::LogFormat::Rfc5424:
        h.put('<');
        h.num(pri);
        h.put(">1 ");
        h.n += write_iso(sec, usec, h.p + h.n);
        h.put(' ');
        h.put(hostname_.empty() ? std::string_view("-") : std::string_view(hostname_));
        h.put(' ');
        h.put(tag_);
        h.put(' ');
        h.num(pid);
        h.put(" - - ");
        break;
      case config::LogFormat::Short:
        h.put('<');
        h.num(lvl);
        h.put('>');
        break;
      case config::LogFormat::Timed:
        h.put('<');
        h.num(lvl);
        h.put('>');
        h.n += write_iso(sec, usec, h.p + h.n);
        h.put(' ');
        break;
      case config::LogFormat::Iso:
        h.n += write_iso(sec, usec, h.p + h.n);
        h.put(' ');
        break;
      case config::LogFormat::Raw:
        break;
    }
    std::size_t body = line.size();
    const bool datagram = c.kind == config::LogTarget::Kind::Udp ||
                          c.kind == config::LogTarget::Kind::UnixDgram;
    // The whole datagram, header and newline included, fits in max_length
    // (HAProxy's `len`). Streams (stdout/stderr) are not cut.
    if (datagram && c.max_length > 0) {
      const std::size_t room = c.max_length > h.n + 1 ? c.max_length - h.n - 1 : 0;
      body = std::min(body, room);
    }
    static const char kNewline = '\n';
    iovec iov[3] = {{hdr_buf, h.n},
                    {const_cast<char*>(line.data()), body},
                    {const_cast<char*>(&kNewline), 1}};
    ssize_t sent;
    if (datagram) {
      msghdr msg{};
      msg.msg_name = const_cast<sockaddr_storage*>(&c.addr.storage);
      msg.msg_namelen = addr_len(c.addr);
      msg.msg_iov = iov;
      msg.msg_iovlen = 3;
      sent = ::sendmsg(t->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
      sent = ::writev(t->fd, iov, 3);
    }
    if (sent != static_cast<ssize_t>(h.n + body + 1))
      dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::string_view level_name(Level level) {
  const auto i = static_cast<std::size_t>(level);
  return i < std::size(kLevelNames) ? kLevelNames[i] : std::string_view("debug");
}

}  // namespace sluice::log
