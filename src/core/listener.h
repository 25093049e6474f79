#pragma once
// Listening sockets and the accept path.

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "config/model.h"
#include "core/loop.h"
#include "util/result.h"

namespace sluice::core {

struct ListenOptions {
  int backlog = 1024;
  bool reuseport = true;  // one socket per thread on TCP
  bool v6only = false;
  bool transparent = false;
  std::string interface;
  std::optional<unsigned> unix_mode;
  std::optional<unsigned> unix_uid;
  std::optional<unsigned> unix_gid;
};

// Open, bind and listen. Errors name the address and the reason
// ("cannot bind 127.0.0.1:80: Address already in use").
Result<int> open_listener(const config::Address& addr, const ListenOptions& opts);

// Accepts connections on one listening fd from one loop. The callback owns
// the accepted fd (non-blocking, close-on-exec). The Listener owns `fd` and
// closes it. The fd is registered with EPOLLEXCLUSIVE, so one listening
// socket shared by several loops (UNIX sockets) wakes one loop per
// connection: give each loop its own dup() of the fd.
// The fd is level-triggered: each wake-up accepts a bounded batch and does
// not drain the backlog to EAGAIN; while connections wait, the next
// epoll_wait reports the socket again (after the other ready sockets had
// their turn). The batch adapts: 1 when connections come one at a time (no
// accept4 ever returns EAGAIN), doubling up to kAcceptBatch while the socket
// stays ready from one loop iteration to the next (a backlog builds up, so
// one epoll_wait per connection would be waste), back to what was there
// when an accept4 finds the backlog empty. On EMFILE/ENFILE/ENOBUFS/ENOMEM
// it leaves the epoll set for kThrottle instead of spinning.
class Listener final : public IoHandler {
 public:
  using AcceptFn = std::function<void(int fd, const sockaddr_storage& peer, socklen_t len)>;
  Listener(Loop& loop, int fd, AcceptFn on_accept);
  ~Listener() override;
  void on_events(std::uint32_t events) override;
  // Stop / restart taking connections (maxconn reached, soft stop).
  void pause();
  void resume();
  // Stop accepting and close our fd.
  void close();
  int fd() const { return fd_; }
  bool paused() const { return paused_; }
  // Connection limits: `admit` reserves a slot before each accept4 and says
  // false when there is none (the owner then pauses us); `release` returns a
  // slot that accept4 did not use.
  void set_admission(std::function<bool()> admit, std::function<void()> release) {
    admit_ = std::move(admit);
    release_ = std::move(release);
  }
  // True while waiting out a descriptor shortage (EMFILE and the like).
  bool throttled() const { return throttled_; }

  static constexpr int kAcceptBatch = 64;  // most per wake-up
  int batch() const { return batch_; }
  static constexpr Millis kThrottle{100};

 private:
  void accept_some();

  Loop& loop_;
  int fd_;
  AcceptFn on_accept_;
  std::function<bool()> admit_;
  std::function<void()> release_;
  bool paused_ = false;
  bool throttled_ = false;
  bool registered_ = false;
  int batch_ = 1;  // accepts this wake-up may do
  bool last_full_ = false;  // the last wake-up used its whole batch
  std::uint64_t last_iteration_ = 0;  // loop iteration of the last wake-up
  Timer retry_;
};

// "127.0.0.1:80", "[::1]:80", "/path/to.sock": how addresses read in messages.
std::string address_text(const sockaddr_storage& ss, socklen_t len);

}  // namespace sluice::core
