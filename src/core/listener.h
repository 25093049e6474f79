#pragma once
// Listening sockets and the accept path.

#include <sys/socket.h>

#include <cstdint>
#include <functional>

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
// the accepted fd (non-blocking, close-on-exec).
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

 private:
  Loop& loop_;
  int fd_;
  AcceptFn on_accept_;
  bool paused_ = false;
};

}  // namespace sluice::core
