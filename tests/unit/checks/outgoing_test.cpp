// LazyNoDelay: TCP_NODELAY only once Nagle's algorithm could hold a write.
#include "checks/outgoing.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sluice::checks {
namespace {

// A connected loopback TCP socket (the client end); the listener and the
// accepted end are closed by the destructor.
struct TcpPair {
  int lfd = -1, cfd = -1, afd = -1;
  TcpPair() {
    lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(lfd, 1), 0);
    EXPECT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    cfd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(cfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    afd = ::accept(lfd, nullptr, nullptr);
  }
  ~TcpPair() {
    ::close(afd);
    ::close(cfd);
    ::close(lfd);
  }
};

int nodelay(int fd) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
  return v;
}

TEST(LazyNoDelay, OneSmallWriteLeavesNagleAlone) {
  TcpPair p;
  LazyNoDelay n;
  n.reset(true);
  n.before_send(p.cfd, 64);
  EXPECT_FALSE(n.on());
  EXPECT_EQ(nodelay(p.cfd), 0);
}

TEST(LazyNoDelay, SecondWriteTurnsItOn) {
  TcpPair p;
  LazyNoDelay n;
  n.reset(true);
  n.before_send(p.cfd, 64);
  n.before_send(p.cfd, 64);
  EXPECT_TRUE(n.on());
  EXPECT_NE(nodelay(p.cfd), 0);
}

TEST(LazyNoDelay, WriteLargerThanOneSegmentTurnsItOnFirst) {
  TcpPair p;
  LazyNoDelay n;
  n.reset(true);
  n.before_send(p.cfd, LazyNoDelay::kOneSegment + 1);
  EXPECT_NE(nodelay(p.cfd), 0);
}

TEST(LazyNoDelay, ResetStartsOverForAFreshConnection) {
  TcpPair p, q;
  LazyNoDelay n;
  n.reset(true);
  n.before_send(p.cfd, 64);
  n.before_send(p.cfd, 64);
  n.reset(true);
  n.before_send(q.cfd, 64);
  EXPECT_EQ(nodelay(q.cfd), 0);
}

TEST(LazyNoDelay, NotTcpOrDefaultNeverSets) {
  TcpPair p;
  LazyNoDelay unix_side;
  unix_side.reset(false);
  unix_side.before_send(p.cfd, 64);
  unix_side.before_send(p.cfd, 1 << 20);
  EXPECT_EQ(nodelay(p.cfd), 0);
  LazyNoDelay accepted;  // default: the listener already set it
  accepted.before_send(p.cfd, 64);
  accepted.before_send(p.cfd, 64);
  EXPECT_EQ(nodelay(p.cfd), 0);
}

}  // namespace
}  // namespace sluice::checks
