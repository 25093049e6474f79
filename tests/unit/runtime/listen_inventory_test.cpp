// The master's listening sockets across reloads: kept, added, rolled back,
// closed when a bind goes away.
#include "runtime/listen_inventory.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sluice::runtime {
namespace {

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof in;
  ::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  ::close(fd);
  return ntohs(in.sin_port);
}

ListenNeed need(std::uint16_t port, unsigned count) {
  ListenNeed n;
  auto& in = reinterpret_cast<sockaddr_in&>(n.addr.storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  n.addr.length = sizeof(sockaddr_in);
  n.opts.reuseport = true;
  n.count = count;
  return n;
}

bool open_fd(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

TEST(ListenInventory, KeepsSocketsAcrossPlans) {
  const std::uint16_t port = free_port();
  ListenInventory inv;
  ASSERT_TRUE(inv.prepare({need(port, 2)}).ok());
  inv.commit();
  auto first = inv.take(need(port, 2).addr, need(port, 2).opts, 2);
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_EQ(first->size(), 2U);

  // The same plan again: the very same descriptors, nothing reopened.
  ASSERT_TRUE(inv.prepare({need(port, 2)}).ok());
  inv.commit();
  auto again = inv.take(need(port, 2).addr, need(port, 2).opts, 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);

  // Fewer threads: the extra socket is kept and handed over (it still gets
  // connections from the kernel's SO_REUSEPORT group).
  ASSERT_TRUE(inv.prepare({need(port, 1)}).ok());
  inv.commit();
  auto fewer = inv.take(need(port, 1).addr, need(port, 1).opts, 1);
  ASSERT_TRUE(fewer.ok());
  EXPECT_EQ(*fewer, *first);

  // More threads, then the new worker fails: only the added socket closes.
  ASSERT_TRUE(inv.prepare({need(port, 3)}).ok());
  auto more = inv.take(need(port, 3).addr, need(port, 3).opts, 3);
  ASSERT_TRUE(more.ok());
  ASSERT_EQ(more->size(), 3U);
  const int added = (*more)[2];
  inv.rollback();
  EXPECT_FALSE(open_fd(added));
  EXPECT_TRUE(open_fd((*first)[0]) && open_fd((*first)[1]));
  EXPECT_EQ(inv.size(), 2U);

  // The bind goes away: closed at commit, not before.
  ASSERT_TRUE(inv.prepare({}).ok());
  EXPECT_TRUE(open_fd((*first)[0]));
  EXPECT_FALSE(inv.take(need(port, 2).addr, need(port, 2).opts, 2).ok());
  inv.commit();
  EXPECT_FALSE(open_fd((*first)[0]));
  EXPECT_EQ(inv.size(), 0U);
}

TEST(ListenInventory, OptionsAreTheSocketsIdentity) {
  ListenNeed a = need(8080, 1);
  ListenNeed b = need(8080, 1);
  b.opts.interface = "lo";
  ListenNeed c = need(8080, 1);
  c.opts.backlog = 5;  // applied with listen() again, same socket
  EXPECT_NE(ListenInventory::key(a.addr, a.opts), ListenInventory::key(b.addr, b.opts));
  EXPECT_EQ(ListenInventory::key(a.addr, a.opts), ListenInventory::key(c.addr, c.opts));
}

TEST(ListenInventory, BindFailureRollsBack) {
  const std::uint16_t port = free_port();
  int taken = ::socket(AF_INET, SOCK_STREAM, 0);  // no SO_REUSEPORT: blocks the port
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&in), sizeof in), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  ListenInventory inv;
  const std::uint16_t other = free_port();
  auto r = inv.prepare({need(other, 1), need(port, 1)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("Address already in use"), std::string::npos) << r.error();
  EXPECT_EQ(inv.size(), 0U);
  ::close(taken);
}

}  // namespace
}  // namespace sluice::runtime
