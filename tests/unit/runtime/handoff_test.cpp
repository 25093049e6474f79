#include "runtime/handoff.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "runtime/fd_passing.h"

namespace sluice::runtime {
namespace {

struct Channel {
  int tx = -1, rx = -1;
  Channel() {
    int p[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p), 0);
    tx = p[0];
    rx = p[1];
  }
  ~Channel() {
    if (tx >= 0) ::close(tx);
    if (rx >= 0) ::close(rx);
  }
};

HandoffMeta meta(const std::string& fe) {
  HandoffMeta m;
  m.proxy = fe;
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(40123);
  ::inet_pton(AF_INET, "127.0.0.9", &in.sin_addr);
  std::memcpy(&m.peer, &in, sizeof in);
  m.peer_len = sizeof in;
  m.requests = 7;
  return m;
}

bool same_file(int a, int b) {
  struct stat sa {
  }, sb{};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
         sa.st_dev == sb.st_dev;
}

TEST(Handoff, ConnectionAndItsMetadataArrive) {
  Channel ch;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_EQ(handoff_send(ch.tx, pipe_fds[0], meta("web")), HandoffSend::Sent);
  int fd = -1;
  HandoffMeta got;
  ASSERT_EQ(handoff_receive(ch.rx, fd, got), HandoffRecv::Got);
  ASSERT_GE(fd, 0);
  EXPECT_NE(fd, pipe_fds[0]);
  EXPECT_TRUE(same_file(fd, pipe_fds[0]));
  EXPECT_EQ(got.kind, HandoffKind::Client);
  EXPECT_EQ(got.proxy, "web");
  EXPECT_EQ(got.server, "");
  EXPECT_EQ(got.requests, 7U);
  ASSERT_EQ(got.peer_len, sizeof(sockaddr_in));
  const auto* in = reinterpret_cast<const sockaddr_in*>(&got.peer);
  EXPECT_EQ(ntohs(in->sin_port), 40123);
  char text[32];
  EXPECT_STREQ(::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text), "127.0.0.9");
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  // Nothing more: empty, not closed.
  int more = -1;
  EXPECT_EQ(handoff_receive(ch.rx, more, got), HandoffRecv::Empty);
  EXPECT_EQ(more, -1);
  ::close(fd);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(Handoff, SenderGoneReadsAsClosed) {
  Channel ch;
  ::close(ch.tx);
  ch.tx = -1;
  int fd = -1;
  HandoffMeta m;
  EXPECT_EQ(handoff_receive(ch.rx, fd, m), HandoffRecv::Closed);
}

TEST(Handoff, ReceiverGoneIsBroken) {
  Channel ch;
  ::close(ch.rx);
  ch.rx = -1;
  EXPECT_EQ(handoff_send(ch.tx, 0, meta("web")), HandoffSend::Broken);
}

TEST(Handoff, FullChannelSaysLaterAndLosesNothing) {
  Channel ch;
  int sndbuf = 4096;
  ASSERT_EQ(::setsockopt(ch.tx, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
  int sent = 0;
  HandoffSend r = HandoffSend::Sent;
  for (int i = 0; i < 10000 && r == HandoffSend::Sent; ++i) {
    r = handoff_send(ch.tx, 0, meta("fe" + std::to_string(i)));
    if (r == HandoffSend::Sent) ++sent;
  }
  EXPECT_EQ(r, HandoffSend::Full);
  ASSERT_GT(sent, 0);
  for (int i = 0; i < sent; ++i) {
    int fd = -1;
    HandoffMeta m;
    ASSERT_EQ(handoff_receive(ch.rx, fd, m), HandoffRecv::Got) << i;
    EXPECT_EQ(m.proxy, "fe" + std::to_string(i));
    ::close(fd);
  }
  EXPECT_EQ(handoff_send(ch.tx, 0, meta("again")), HandoffSend::Sent);
}

TEST(Handoff, RefusesWhatCannotBeSent) {
  Channel ch;
  EXPECT_EQ(handoff_send(ch.tx, 0, meta("")), HandoffSend::Broken);
  EXPECT_EQ(handoff_send(ch.tx, 0, meta(std::string(kHandoffMaxName + 1, 'x'))),
            HandoffSend::Broken);
  EXPECT_EQ(handoff_send(ch.tx, 0, meta(std::string(kHandoffMaxName, 'x'))), HandoffSend::Sent);
  EXPECT_EQ(handoff_send(-1, 0, meta("web")), HandoffSend::Broken);
  EXPECT_EQ(handoff_send(ch.tx, -1, meta("web")), HandoffSend::Broken);
  // A server connection names its server; a client connection does not.
  HandoffMeta s = meta("app");
  s.kind = HandoffKind::Server;
  EXPECT_EQ(handoff_send(ch.tx, 0, s), HandoffSend::Broken);
  HandoffMeta c = meta("web");
  c.server = "s1";
  EXPECT_EQ(handoff_send(ch.tx, 0, c), HandoffSend::Broken);
}

TEST(Handoff, ServerConnectionNamesBackendAndServer) {
  Channel ch;
  HandoffMeta s;
  s.kind = HandoffKind::Server;
  s.proxy = "app";
  s.server = "web1";
  ASSERT_EQ(handoff_send(ch.tx, 0, s), HandoffSend::Sent);
  int fd = -1;
  HandoffMeta got;
  ASSERT_EQ(handoff_receive(ch.rx, fd, got), HandoffRecv::Got);
  EXPECT_EQ(got.kind, HandoffKind::Server);
  EXPECT_EQ(got.proxy, "app");
  EXPECT_EQ(got.server, "web1");
  EXPECT_EQ(got.peer_len, 0U);
  ::close(fd);
}

// Anything else on the channel is dropped, and a descriptor it carried is
// closed rather than leaked.
TEST(Handoff, ForeignMessagesAreDroppedAndTheirDescriptorsClosed) {
  Channel ch;
  // No descriptor.
  ASSERT_EQ(::send(ch.tx, "SLH2hello", 9, 0), 9);
  int fd = -1;
  HandoffMeta m;
  EXPECT_EQ(handoff_receive(ch.rx, fd, m), HandoffRecv::Invalid);
  EXPECT_EQ(fd, -1);
  // A descriptor with a wrong header: the received copy is closed.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const char body[] = "XXXXgarbage";
  ASSERT_GT(send_with_fds(ch.tx, body, sizeof body, &p[1], 1, 0), 0);
  ::close(p[1]);  // the only write end left is the one in flight
  EXPECT_EQ(handoff_receive(ch.rx, fd, m), HandoffRecv::Invalid);
  EXPECT_EQ(fd, -1);
  char b;
  EXPECT_EQ(::read(p[0], &b, 1), 0);  // every write end closed: end of file
  ::close(p[0]);
  // A good one after the bad ones still arrives.
  ASSERT_EQ(handoff_send(ch.tx, 0, meta("web")), HandoffSend::Sent);
  EXPECT_EQ(handoff_receive(ch.rx, fd, m), HandoffRecv::Got);
  ::close(fd);
}

TEST(Handoff, SuccessorFrontendsTravelTheOtherWay) {
  Channel ch;
  std::vector<std::string> got;
  EXPECT_FALSE(handoff_read_frontends(ch.tx, got));  // nothing yet
  ASSERT_TRUE(handoff_send_frontends(ch.rx, {"web", "api", "", "bad\nname"}));
  ASSERT_TRUE(handoff_read_frontends(ch.tx, got));
  EXPECT_EQ(got, (std::vector<std::string>{"web", "api"}));
  // A connection message is not a list of frontends (its descriptor is closed).
  ASSERT_EQ(handoff_send(ch.rx, 0, meta("web")), HandoffSend::Sent);
  EXPECT_FALSE(handoff_read_frontends(ch.tx, got));
  // An empty list is a list.
  ASSERT_TRUE(handoff_send_frontends(ch.rx, {}));
  ASSERT_TRUE(handoff_read_frontends(ch.tx, got));
  EXPECT_TRUE(got.empty());
  // Lists arrive one by one, in order (the engine keeps the last).
  ASSERT_TRUE(handoff_send_frontends(ch.rx, {"old"}));
  ASSERT_TRUE(handoff_send_frontends(ch.rx, {"new"}));
  ASSERT_TRUE(handoff_read_frontends(ch.tx, got));
  EXPECT_EQ(got, std::vector<std::string>{"old"});
  ASSERT_TRUE(handoff_read_frontends(ch.tx, got));
  EXPECT_EQ(got, std::vector<std::string>{"new"});
  EXPECT_FALSE(handoff_read_frontends(ch.tx, got));
}

}  // namespace
}  // namespace sluice::runtime
