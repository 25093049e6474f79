// LazyNoDelay: TCP_NODELAY only once Nagle's algorithm could hold a write.
#include "checks/outgoing.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback_pair.h"

namespace sluice::checks {
namespace {

using TcpPair = test::LoopbackPair;  // the test writes on `a`, the client end

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
  n.before_send(p.a, 64);
  EXPECT_FALSE(n.on());
  EXPECT_EQ(nodelay(p.a), 0);
}

TEST(LazyNoDelay, SecondWriteTurnsItOn) {
  TcpPair p;
  LazyNoDelay n;
  n.reset(true);
  n.before_send(p.a, 64);
  n.before_send(p.a, 64);
  EXPECT_TRUE(n.on());
  EXPECT_NE(nodelay(p.a), 0);
}

TEST(LazyNoDelay, WriteLargerThanOneSegmentTurnsItOnFirst) {
  TcpPair p;
  LazyNoDelay n;
  n.reset(true);
  n.before_send(p.a, LazyNoDelay::kOneSegment + 1);
  EXPECT_NE(nodelay(p.a), 0);
}

TEST(LazyNoDelay, ResetStartsOverForAFreshConnection) {
  TcpPair p, q;
  LazyNoDelay n;
  n.reset(true);
  n.before_send(p.a, 64);
  n.before_send(p.a, 64);
  n.reset(true);
  n.before_send(q.a, 64);
  EXPECT_EQ(nodelay(q.a), 0);
}

TEST(LazyNoDelay, NotTcpOrDefaultNeverSets) {
  TcpPair p;
  LazyNoDelay unix_side;
  unix_side.reset(false);
  unix_side.before_send(p.a, 64);
  unix_side.before_send(p.a, 1 << 20);
  EXPECT_EQ(nodelay(p.a), 0);
  LazyNoDelay accepted;  // default: the listener already set it
  accepted.before_send(p.a, 64);
  accepted.before_send(p.a, 64);
  EXPECT_EQ(nodelay(p.a), 0);
}

}  // namespace
}  // namespace sluice::checks
