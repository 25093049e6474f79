#include "checks/outgoing.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::checks {

int open_outgoing(const config::Address& dst, const OutgoingOptions& opts, int& err) {
  err = 0;
  int fd = ::socket(dst.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  if (opts.keepalive) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  }
  if (opts.nodelay && dst.family() != AF_UNIX) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (opts.delay_ack) {
    int zero = 0;
    ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
  }
  if (opts.source != nullptr && opts.source->family() == dst.family()) {
    int one = 1;
    if (opts.source->port() == 0) {
      // Let connect() choose the port with the 4-tuple in mind, so many
      // connections can share one source address.
      ::setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    } else {
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&opts.source->storage),
               opts.source->length) != 0) {
      err = errno;
      ::close(fd);
      return -1;
    }
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&dst.storage), dst.length) != 0 &&
      errno != EINPROGRESS) {
    err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

void LazyNoDelay::turn_on(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  on_ = true;
}

void set_nolinger(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

}  // namespace sluice::checks
