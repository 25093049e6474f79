#pragma once
// Idle keep-alive client connections handed from an old worker to its
// successor at a reload, so that clients keep their connection instead of
// reconnecting (no burst of new connections, no Connection: close).
//
// The channel is a SOCK_SEQPACKET socket pair made by the master for each
// worker it forks: the worker keeps the sending end (its successor's
// channel) and the master keeps the receiving end until it forks the next
// worker, which inherits it. One message per connection: a fixed header
// and the frontend's name, with the descriptor in SCM_RIGHTS. Sending never
// blocks: a full channel is tried again later, a closed one (the successor
// died) ends the hand-over and the old worker closes as it did before.

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::runtime {

enum class HandoffKind : std::uint32_t {
  Client = 1,  // a keep-alive client connection between requests
  Server = 2,  // an idle connection to a server (the pool's)
};

// What travels with a connection's descriptor.
struct HandoffMeta {
  HandoffKind kind = HandoffKind::Client;
  std::string proxy;        // Client: the frontend that accepted it; Server: the backend
  std::string server;       // Server: the server's name (empty for a client)
  sockaddr_storage peer{};  // Client: its address as the old worker knew it
  socklen_t peer_len = 0;
  std::uint32_t requests = 0;  // requests already served on it
};

enum class HandoffSend {
  Sent,    // the descriptor is the successor's now (ours may be closed)
  Full,    // the channel is full for now: try again later
  Broken,  // the successor is gone or the channel failed: stop handing over
};

// Send `fd` and `m` on `chan` without blocking.
HandoffSend handoff_send(int chan, int fd, const HandoffMeta& m);

enum class HandoffRecv {
  Got,      // `fd` and `m` filled in (fd is ours, close-on-exec)
  Invalid,  // a message that is not a connection (dropped, its fds closed)
  Empty,    // nothing more for now
  Closed,   // the channel ended or failed
};

// Receive one connection from `chan` without blocking.
HandoffRecv handoff_receive(int chan, int& fd, HandoffMeta& m);

// The successor's side of the channel also speaks once, first: the names of
// the HTTP frontends it has (one message, sent when it starts listening).
// The old worker reads it at its soft stop and hands over only connections
// of those frontends; the others stay and are told Connection: close, so a
// frontend removed by the reload never has an idle connection cut.
bool handoff_send_frontends(int chan, const std::vector<std::string>& names);
// Non-blocking; false when no such message is waiting.
bool handoff_read_frontends(int chan, std::vector<std::string>& names);

// The longest proxy or server name a message carries (longer: not sent).
inline constexpr std::size_t kHandoffMaxName = 255;

}  // namespace sluice::runtime
