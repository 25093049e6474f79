#pragma once
// Opening an outgoing, non-blocking TCP connection (socket, optional
// `source` bind, connect). Shared by health checks and proxied sessions;
// it lives here because checks/ cannot depend on proxy/ (it belongs in
// core/ once that area grows an equivalent).

#include "config/model.h"

namespace sluice::checks {

struct OutgoingOptions {
  const config::Address* source = nullptr;  // bind before connect
  bool keepalive = false;  // SO_KEEPALIVE (tcpka / srvtcpka)
  // TCP_QUICKACK off before connect: the handshake's last ACK waits for
  // data. A connect-only check that resets at once then never completes
  // the server's handshake, so the server application never accepts it.
  bool delay_ack = false;
  // TCP_NODELAY: traffic connections relay request/response exchanges that
  // Nagle's algorithm would hold back behind the peer's delayed ACK (40 ms).
  bool nodelay = false;
};

// Start connecting to `dst`. Returns the fd (connect in progress or done)
// or -1 with `err` set to the errno that stopped it (nothing left open).
int open_outgoing(const config::Address& dst, const OutgoingOptions& opts, int& err);

// Set SO_LINGER {1, 0} so close() sends a RST and leaves no TIME_WAIT.
void set_nolinger(int fd);

}  // namespace sluice::checks
