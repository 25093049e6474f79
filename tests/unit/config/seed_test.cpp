// The two configurations from the original write-ups must load with exactly
// the not-yet-implemented keywords as errors.

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::warnings;

std::string shared(const std::string& f) { return std::string(SLUICE_SHARED_DIR) + "/examples/" + f; }

std::vector<std::string> strip_dir(std::vector<std::string> v, const std::string& dir) {
  for (auto& s : v)
    if (s.rfind(dir, 0) == 0) s = s.substr(dir.size());
  return v;
}

TEST(ConfigSeed, VhostErrorsAreExactlyTheNotYetKeywords) {
  auto r = load_files({shared("seed-vhost.cfg")});
  std::string dir = std::string(SLUICE_SHARED_DIR) + "/examples/";
  EXPECT_EQ(strip_dir(errors(r), dir), std::vector<std::string>{});
  std::vector<std::string> expected_warnings = {
      "seed-vhost.cfg:8: [nbproc] nbproc is gone; Sluice runs 4 threads in one process instead "
      "(use 'nbthread 4')",
      "seed-vhost.cfg:19: [contimeout] 'contimeout' is deprecated; use 'timeout connect' instead "
      "(translated)",
      "seed-vhost.cfg:20: [clitimeout] 'clitimeout' is deprecated; use 'timeout client' instead "
      "(translated)",
      "seed-vhost.cfg:21: [srvtimeout] 'srvtimeout' is deprecated; use 'timeout server' instead "
      "(translated)",
  };
  EXPECT_EQ(strip_dir(warnings(r), dir), expected_warnings);

  const Model& m = r.model;
  EXPECT_EQ(m.global.maxconn, 20000U);
  EXPECT_EQ(m.global.ulimit_n, 16384U);
  EXPECT_EQ(m.global.uid, 200U);
  EXPECT_EQ(m.global.gid, 200U);
  EXPECT_EQ(m.global.chroot, "/var/empty");
  EXPECT_TRUE(m.global.daemon);
  EXPECT_EQ(m.global.nbthread, 4U);
  ASSERT_EQ(m.global.logs.size(), 1U);
  EXPECT_EQ(m.global.logs[0].facility, 16);
  EXPECT_EQ(m.global.logs[0].addr.port(), 514);
  ASSERT_EQ(m.proxies.size(), 3U);
  const Proxy& fe = m.proxies[0];
  EXPECT_EQ(fe.name, "http-in");
  EXPECT_EQ(fe.id, 1);
  EXPECT_EQ(fe.maxconn, 2000U);
  EXPECT_EQ(fe.timeouts.client, Millis(50000));
  EXPECT_EQ(fe.timeouts.connect, Millis(5000));
  EXPECT_TRUE(fe.dontlognull);
  EXPECT_EQ(fe.logs.size(), 1U);
  EXPECT_EQ(fe.default_backend, "urlencode");
  ASSERT_EQ(fe.use_backends.size(), 2U);
  EXPECT_EQ(fe.use_backends[1].backend, "wedding");
  ASSERT_EQ(fe.binds.size(), 1U);
  EXPECT_EQ(fe.binds[0].addrs[0].port(), 80);
  const Proxy& be = m.proxies[2];
  EXPECT_EQ(be.name, "wedding");
  EXPECT_EQ(be.id, 3);
  EXPECT_TRUE(be.redispatch);
  EXPECT_EQ(be.retries, 3U);
  EXPECT_EQ(be.timeouts.server, Millis(50000));
  ASSERT_EQ(be.servers.size(), 1U);
  EXPECT_EQ(be.servers[0].addr.port(), 8081);
  EXPECT_EQ(be.servers[0].id, 1);
  EXPECT_EQ(be.health_check.type, HealthCheckDef::Type::HttpChk);
  EXPECT_EQ(be.health_check.args, (std::vector<std::string>{"HEAD", "/check.txt", "HTTP/1.0"}));
  // HTTP mode
  EXPECT_EQ(fe.mode, Mode::Http);
  EXPECT_TRUE(fe.httplog);
  EXPECT_EQ(fe.http_conn_mode, HttpConnMode::KeepAlive);
  EXPECT_EQ(be.mode, Mode::Http);
  EXPECT_EQ(be.http_conn_mode, HttpConnMode::Close);
  EXPECT_TRUE(be.forwardfor.enabled);
  EXPECT_EQ(be.forwardfor.header, "X-Forwarded-For");
  EXPECT_EQ(be.cookie.name, "SERVERID");
  EXPECT_EQ(be.cookie.method, CookieDef::Method::Insert);
  EXPECT_TRUE(be.cookie.nocache);
  EXPECT_TRUE(be.cookie.indirect);
  EXPECT_FALSE(be.cookie.postonly);
  EXPECT_EQ(be.servers[0].cookie, "Local");
}

TEST(ConfigSeed, MysqlLoadsWithoutErrors) {
  auto r = load_files({shared("seed-mysql.cfg")});
  std::string dir = std::string(SLUICE_SHARED_DIR) + "/examples/";
  EXPECT_EQ(strip_dir(errors(r), dir), std::vector<std::string>{});
  EXPECT_EQ(strip_dir(warnings(r), dir),
            (std::vector<std::string>{"seed-mysql.cfg:4: [listen] missing timeouts for 'mysql': "
                                      "client, connect, server (connections may hang without "
                                      "them)"}));
  ASSERT_EQ(r.model.proxies.size(), 1U);
  const Proxy& p = r.model.proxies[0];
  EXPECT_EQ(p.cap, ProxyCap::Listen);
  EXPECT_EQ(p.mode, Mode::Tcp);
  ASSERT_EQ(p.servers.size(), 2U);
  EXPECT_TRUE(p.servers[0].check);
  EXPECT_EQ(p.servers[0].check_port, 3306);
  EXPECT_FALSE(p.servers[0].backup);
  EXPECT_TRUE(p.servers[1].backup);
  EXPECT_EQ(p.servers[1].id, 2);
  EXPECT_EQ(p.binds[0].addrs[0].port(), 3307);
  EXPECT_EQ(p.health_check.type, HealthCheckDef::Type::Mysql);
  EXPECT_TRUE(p.health_check.args.empty());
}

}  // namespace
}  // namespace sluice::config
