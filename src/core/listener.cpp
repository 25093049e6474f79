#include "core/listener.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sluice::core {

namespace {

std::string errno_text(int e) {
  char buf[128];
  // GNU strerror_r: returns a pointer that may or may not be `buf`.
  return strerror_r(e, buf, sizeof buf);
}

std::string unix_path(const sockaddr_storage& ss, socklen_t len) {
  const auto& sun = reinterpret_cast<const sockaddr_un&>(ss);
  const std::size_t off = offsetof(sockaddr_un, sun_path);
  std::size_t n = len > off ? len - off : 0;
  if (n > sizeof sun.sun_path) n = sizeof sun.sun_path;
  if (n == 0) n = strnlen(sun.sun_path, sizeof sun.sun_path);
  if (n > 0 && sun.sun_path[0] == '\0') return "@" + std::string(sun.sun_path + 1, n - 1);
  return std::string(sun.sun_path, strnlen(sun.sun_path, n));
}

std::string name_of(const config::Address& a) {
  return a.text.empty() ? address_text(a.storage, a.length) : a.text;
}

Error fail(int fd, const std::string& what, const config::Address& a, int e) {
  if (fd >= 0) ::close(fd);
  return make_error("cannot " + what + " " + name_of(a) + ": " + errno_text(e));
}

socklen_t sockaddr_len(const config::Address& a) {
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

Result<int> open_unix(const config::Address& addr, const ListenOptions& opts) {
  const auto& sun = reinterpret_cast<const sockaddr_un&>(addr.storage);
  const bool abstract = sun.sun_path[0] == '\0';
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(-1, "create a socket for", addr, errno);
  if (abstract) {
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr.storage), sockaddr_len(addr)) != 0)
      return fail(fd, "bind", addr, errno);
    if (::listen(fd, opts.backlog) != 0) return fail(fd, "listen on", addr, errno);
    return fd;
  }

  const std::string path(sun.sun_path, strnlen(sun.sun_path, sizeof sun.sun_path));
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    ::close(fd);
    return make_error("cannot bind " + name_of(addr) +
                      ": the path exists and is not a socket (not replacing it)");
  }
  // Bind a temporary name, set its mode and owner, listen, then rename it over
  // the final path: the socket never appears with the wrong permissions, and a
  // stale socket left by a dead process (or one a previous instance still
  // serves, as on a reload) is replaced atomically.
  std::string tmp = path + "." + std::to_string(::getpid()) + ".tmp";
  const bool use_tmp = tmp.size() < sizeof sun.sun_path;
  if (!use_tmp) {
    tmp = path;
    ::unlink(path.c_str());
  }
  sockaddr_un bind_addr{};
  bind_addr.sun_family = AF_UNIX;
  std::memcpy(bind_addr.sun_path, tmp.c_str(), tmp.size() + 1);
  ::unlink(tmp.c_str());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&bind_addr), sizeof bind_addr) != 0)
    return fail(fd, "bind", addr, errno);
  auto undo = [&](const std::string& what, int e) {
    ::unlink(tmp.c_str());
    return fail(fd, what, addr, e);
  };
  if (opts.unix_mode && ::chmod(tmp.c_str(), static_cast<mode_t>(*opts.unix_mode)) != 0)
    return undo("set the mode of", errno);
  if (opts.unix_uid || opts.unix_gid) {
    const uid_t uid = opts.unix_uid ? static_cast<uid_t>(*opts.unix_uid) : static_cast<uid_t>(-1);
    const gid_t gid = opts.unix_gid ? static_cast<gid_t>(*opts.unix_gid) : static_cast<gid_t>(-1);
    if (::chown(tmp.c_str(), uid, gid) != 0) return undo("set the owner of", errno);
  }
  if (::listen(fd, opts.backlog) != 0) return undo("listen on", errno);
  if (use_tmp && ::rename(tmp.c_str(), path.c_str()) != 0) return undo("bind", errno);
  return fd;
}

}  // namespace

std::string address_text(const sockaddr_storage& ss, socklen_t len) {
  char host[INET6_ADDRSTRLEN] = "";
  switch (ss.ss_family) {
    case AF_INET: {
      const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
      inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
      return std::string(host) + ":" + std::to_string(ntohs(in.sin_port));
    }
    case AF_INET6: {
      const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
      inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
      return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6.sin6_port));
    }
    case AF_UNIX:
      return unix_path(ss, len);
    default:
      return "<unknown address family " + std::to_string(ss.ss_family) + ">";
  }
}

Result<int> open_listener(const config::Address& addr, const ListenOptions& opts) {
  const int family = addr.family();
  if (family == AF_UNIX) return open_unix(addr, opts);
  if (family != AF_INET && family != AF_INET6)
    return make_error("cannot bind " + name_of(addr) + ": unsupported address family");

  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(-1, "create a socket for", addr, errno);
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    return fail(fd, "set SO_REUSEADDR on", addr, errno);
  if (opts.reuseport && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return fail(fd, "set SO_REUSEPORT on", addr, errno);
  // Accepted sockets inherit TCP_NODELAY from the listener: replies go out
  // as soon as they are written (no Nagle wait behind a delayed ACK), at no
  // cost per connection.
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    return fail(fd, "set TCP_NODELAY on", addr, errno);
  if (family == AF_INET6) {
    const int v6only = opts.v6only ? 1 : 0;
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0)
      return fail(fd, "set IPV6_V6ONLY on", addr, errno);
  }
  if (opts.transparent) {
    const int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    const int name = family == AF_INET6 ? IPV6_TRANSPARENT : IP_TRANSPARENT;
    if (::setsockopt(fd, level, name, &one, sizeof one) != 0)
      return fail(fd, "set transparent mode (needs CAP_NET_ADMIN) on", addr, errno);
  }
  if (!opts.interface.empty()) {
    if (opts.interface.size() >= IFNAMSIZ)
      return fail(fd, "bind to interface '" + opts.interface + "'", addr, ENAMETOOLONG);
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, opts.interface.c_str(),
                     static_cast<socklen_t>(opts.interface.size())) != 0)
      return fail(fd, "bind to interface '" + opts.interface + "'", addr, errno);
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr.storage), sockaddr_len(addr)) != 0)
    return fail(fd, "bind", addr, errno);
  if (::listen(fd, opts.backlog) != 0) return fail(fd, "listen on", addr, errno);
  return fd;
}

namespace {
// Level-triggered: epoll_wait reports the socket for as long as connections
// wait in its backlog, so we accept a bounded number per wake-up and never
// call accept4 just to learn that the backlog is empty (the EAGAIN that an
// edge-triggered listener pays on every batch). No connection can be left
// waiting for an edge: the level is reported again at the next epoll_wait.
constexpr std::uint32_t kListenEvents = EPOLLIN | EPOLLEXCLUSIVE;
}

Listener::Listener(Loop& loop, int fd, AcceptFn on_accept)
    : loop_(loop), fd_(fd), on_accept_(std::move(on_accept)) {
  retry_.set_callback([this] {
    throttled_ = false;
    // Back in the epoll set: a backlog that filled meanwhile is reported by
    // the next epoll_wait (level-triggered).
    if (!paused_ && fd_ >= 0 && !registered_) registered_ = loop_.add(fd_, this, kListenEvents);
  });
  // A socket that is already readable is reported by the first epoll_wait.
  registered_ = loop_.add(fd_, this, kListenEvents);
}

Listener::~Listener() { close(); }

void Listener::on_events(std::uint32_t /*events*/) {
  if (paused_ || throttled_ || fd_ < 0) return;
  accept_some();
}

void Listener::accept_some() {
  const std::uint64_t it = loop_.iteration();
  const bool again = it == last_iteration_ + 1;  // ready in the previous batch too
  if (again && last_full_)
    batch_ = std::min(batch_ * 2, kAcceptBatch);
  else if (!again && batch_ > 1)
    batch_ /= 2;  // quiet since: shrink back towards one
  last_iteration_ = it;
  last_full_ = false;
  int accepted = 0;
  for (int i = 0; i < batch_; ++i) {
    // No slot: the owner paused us (out of the epoll set), or a slot came
    // free meanwhile, in which case the level is reported again.
    if (admit_ && !admit_()) return;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int c = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                            SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0 && release_) release_();
    if (c >= 0) {
      ++accepted;
      on_accept_(c, peer, len);
      if (paused_ || fd_ < 0) return;  // the callback paused or closed us
      continue;
    }
    switch (errno) {
      case EAGAIN:
        // Drained (or another loop sharing the fd took it): this many were
        // waiting, take as many next time.
        batch_ = std::max(accepted, 1);
        return;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
      case EPERM:  // firewall rules
      case ENETDOWN:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case EOPNOTSUPP:
      case ENETUNREACH:
        continue;  // that connection failed; the next may not
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        // Out of descriptors or memory: a level-triggered socket would wake
        // us at once, again and again. Leave the epoll set and come back
        // later; the pending connections wait in the backlog.
        throttled_ = true;
        if (registered_) loop_.remove(fd_);
        registered_ = false;
        loop_.arm(retry_, kThrottle);
        return;
      default:
        return;  // EBADF / EINVAL: not listening any more
    }
  }
  // Batch used up: if more connections wait, the next epoll_wait says so
  // (and the batch grows).
  last_full_ = true;
}

void Listener::pause() {
  if (paused_) return;
  paused_ = true;
  // Out of the epoll set, so that with a shared fd (EPOLLEXCLUSIVE) the
  // wake-ups go to loops that still accept.
  if (registered_ && fd_ >= 0) loop_.remove(fd_);
  registered_ = false;
}

void Listener::resume() {
  if (!paused_ || fd_ < 0) return;
  paused_ = false;
  // Level-triggered: connections that arrived while paused are reported by
  // the next epoll_wait. While throttled, the retry timer re-registers.
  if (!throttled_ && !registered_) registered_ = loop_.add(fd_, this, kListenEvents);
}

void Listener::close() {
  loop_.cancel(retry_);
  throttled_ = false;
  if (fd_ < 0) return;
  if (registered_) loop_.remove(fd_);
  registered_ = false;
  ::close(fd_);
  fd_ = -1;
}

}  // namespace sluice::core
