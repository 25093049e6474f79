#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using V = std::vector<std::string>;

TEST(ConfigStatsSocket, Options) {
  auto r = testing::load(
      "global\n"
      "  stats socket /run/a.sock mode 660 uid 7 gid 8 level admin expose-fd listeners\n"
      "  stats socket ipv4@127.0.0.1:9999 level user\n"
      "  stats socket /run/b.sock\n"
      "  stats timeout 2m\n"
      "listen l\n  bind :1\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n"
      "  server s 127.0.0.1:2\n");
  EXPECT_EQ(testing::errors(r), V{});
  const auto& g = r.model.global;
  ASSERT_EQ(g.stats_sockets.size(), 3U);
  EXPECT_TRUE(g.stats_sockets[0].addr.is_unix());
  EXPECT_EQ(*g.stats_sockets[0].unix_mode, 0660U);
  EXPECT_EQ(*g.stats_sockets[0].unix_uid, 7U);
  EXPECT_EQ(*g.stats_sockets[0].unix_gid, 8U);
  EXPECT_EQ(g.stats_sockets[0].level, StatsSocket::Level::Admin);
  EXPECT_TRUE(g.stats_sockets[0].expose_fd_listeners);
  EXPECT_EQ(g.stats_sockets[1].addr.port(), 9999);
  EXPECT_EQ(g.stats_sockets[1].level, StatsSocket::Level::User);
  EXPECT_EQ(g.stats_sockets[2].level, StatsSocket::Level::Operator);  // HAProxy's default
  EXPECT_EQ(g.stats_timeout, std::chrono::minutes(2));
  // HAProxy's CLI frontend takes proxy id 1 when a stats socket exists.
  EXPECT_EQ(r.model.proxies[0].id, 2);
}

TEST(ConfigStatsSocket, Errors) {
  auto r = testing::load(
      "global\n"
      "  stats socket /run/a.sock level root\n"
      "  stats socket ipv4@127.0.0.1\n"
      "  stats socket /run/c.sock colour blue\n"
      "  stats socket /run/d.sock mode 999\n"
      "  stats timeout 0\n"
      "  stats socket\n");
  auto e = testing::errors(r);
  ASSERT_EQ(e.size(), 6U);
  EXPECT_EQ(e[0], "t.cfg:2: [stats socket] 'level' only supports 'user', 'operator', and 'admin' (got 'root')");
  EXPECT_EQ(e[1], "t.cfg:3: [stats socket] missing port in bind address 'ipv4@127.0.0.1' (expected like *:80)");
  EXPECT_EQ(e[2].rfind("t.cfg:4: [stats socket] 'stats socket' option 'colour' is not supported", 0), 0U);
  EXPECT_EQ(e[3].rfind("t.cfg:5: [stats socket] mode", 0), 0U);
  EXPECT_EQ(e[4], "t.cfg:6: [stats timeout] 'stats timeout' must be positive");
  EXPECT_EQ(e[5], "t.cfg:7: [stats socket] 'stats socket' expects a path or an address");
}

}  // namespace
}  // namespace sluice::config
