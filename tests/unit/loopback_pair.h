#pragma once
// A connected loopback TCP pair for unit tests: `a` the connecting end, `b`
// the accepted one; both closed by the destructor (set one to -1 to keep it).

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sluice::test {

struct LoopbackPair {
  int a = -1, b = -1;
  explicit LoopbackPair(bool nonblocking = false) {
    int l = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    EXPECT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(l, 1), 0);
    EXPECT_EQ(::getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    a = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(a, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    b = ::accept(l, nullptr, nullptr);
    ::close(l);
    if (nonblocking) {
      ::fcntl(a, F_SETFL, ::fcntl(a, F_GETFL) | O_NONBLOCK);
      ::fcntl(b, F_SETFL, ::fcntl(b, F_GETFL) | O_NONBLOCK);
    }
  }
  ~LoopbackPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  LoopbackPair(const LoopbackPair&) = delete;
  LoopbackPair& operator=(const LoopbackPair&) = delete;
};

}  // namespace sluice::test
