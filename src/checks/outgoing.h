#pragma once
// Opening an outgoing, non-blocking TCP connection (socket, optional
// `source` bind, connect). Shared by health checks and proxied sessions;
// it lives here because checks/ cannot depend on proxy/ (it belongs in
// core/ once that area grows an equivalent).

#include <cstddef>

#include "config/model.h"

namespace sluice::checks {

struct OutgoingOptions {
  const config::Address* source = nullptr;  // bind before connect
  bool keepalive = false;  // SO_KEEPALIVE (tcpka / srvtcpka)
  // TCP_QUICKACK off before connect: the handshake's last ACK waits for
  // data. A connect-only check that resets at once then never completes
  // the server's handshake, so the server application never accepts it.
  bool delay_ack = false;
  // TCP_NODELAY at once (traffic connections use LazyNoDelay instead).
  bool nodelay = false;
};

// TCP_NODELAY on a traffic connection, set only once Nagle's algorithm could
// hold a write back behind the peer's delayed ACK (40 ms): before a write
// that may span segments, or before any write after the first (earlier data
// may still be unacknowledged). A connection that carries one small message
// toward the server (most TCP request/response sessions, one HTTP request on
// a fresh server connection) never pays the setsockopt.
class LazyNoDelay {
 public:
  // Larger writes may not fit one segment (MSS >= 1 KiB on real paths).
  static constexpr std::size_t kOneSegment = 1024;
  // A fresh connection: `tcp` false (UNIX socket) never sets the option.
  // Default-constructed: nothing to do (accepted sockets inherit
  // TCP_NODELAY from their listener).
  void reset(bool tcp) {
    on_ = !tcp;
    wrote_ = false;
  }
  void before_send(int fd, std::size_t len) {
    if (!on_ && (wrote_ || len > kOneSegment)) turn_on(fd);
    wrote_ = true;
  }
  bool on() const { return on_; }

 private:
  void turn_on(int fd);
  bool on_ = true;
  bool wrote_ = false;
};

// Start connecting to `dst`. Returns the fd (connect in progress or done)
// or -1 with `err` set to the errno that stopped it (nothing left open).
int open_outgoing(const config::Address& dst, const OutgoingOptions& opts, int& err);

// Set SO_LINGER {1, 0} so close() sends a RST and leaves no TIME_WAIT.
void set_nolinger(int fd);

}  // namespace sluice::checks
