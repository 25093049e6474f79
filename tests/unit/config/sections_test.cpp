// Sections, defaults (reset, named, from), proxy ids, multiple files.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::joined;
using testing::load;

TEST(ConfigSections, EachDefaultsSectionStartsAfresh) {
  auto r = load(
      "defaults\n"
      "  timeout connect 1s\n"
      "  retries 5\n"
      "  option redispatch\n"
      "backend a\n"
      "  server s 127.0.0.1:1\n"
      "defaults\n"
      "  timeout server 2s\n"
      "backend b\n"
      "  server s 127.0.0.1:1\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const Proxy& a = r.model.proxies[0];
  const Proxy& b = r.model.proxies[1];
  EXPECT_EQ(a.timeouts.connect, Millis(1000));
  EXPECT_EQ(a.retries, 5U);
  EXPECT_TRUE(a.redispatch);
  EXPECT_FALSE(b.timeouts.connect.has_value());  // reset by the second defaults
  EXPECT_EQ(b.timeouts.server, Millis(2000));
  EXPECT_EQ(b.retries, 3U);
  EXPECT_FALSE(b.redispatch);
}

TEST(ConfigSections, NamedDefaultsAndFrom) {
  auto r = load(
      "defaults slow\n"
      "  timeout connect 10s\n"
      "  balance leastconn\n"
      "defaults fast\n"
      "  timeout connect 100ms\n"
      "backend a from slow\n"
      "  server s 127.0.0.1:1\n"
      "backend b\n"
      "  server s 127.0.0.1:1\n"
      "defaults child from slow\n"
      "  timeout server 3s\n"
      "backend c\n"
      "  server s 127.0.0.1:1\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  EXPECT_EQ(r.model.proxies[0].timeouts.connect, Millis(10000));
  EXPECT_EQ(r.model.proxies[0].balance.algo, BalanceAlgo::LeastConn);
  EXPECT_TRUE(r.model.proxies[0].balance.explicit_set);
  EXPECT_EQ(r.model.proxies[1].timeouts.connect, Millis(100));  // the last defaults
  EXPECT_EQ(r.model.proxies[1].balance.algo, BalanceAlgo::RoundRobin);
  EXPECT_EQ(r.model.proxies[2].timeouts.connect, Millis(10000));  // child inherits slow
  EXPECT_EQ(r.model.proxies[2].timeouts.server, Millis(3000));
}

TEST(ConfigSections, DefaultsErrors) {
  auto r = load(
      "defaults d1\n"
      "defaults d1\n"
      "backend a from nope\n"
      "backend b from\n"
      "frontend\n"
      "listen l x y\n"
      "  bind :1\n");
  EXPECT_EQ(errors(r), (std::vector<std::string>{
                           "t.cfg:2: [defaults] defaults section 'd1' is already defined at t.cfg:1",
                           "t.cfg:3: [backend] unknown defaults section 'nope'",
                           "t.cfg:4: [backend] 'from' expects the name of a defaults section",
                           "t.cfg:5: [frontend] 'frontend' expects a name",
                           "t.cfg:6: [listen] unexpected argument 'x' after the section name",
                       }));
}

TEST(ConfigSections, InheritsEverythingListed) {
  auto r = load(
      "global\n"
      "  log 127.0.0.1:1514 local3\n"
      "defaults\n"
      "  mode tcp\n"
      "  log global\n"
      "  maxconn 77\n"
      "  source 10.1.1.1\n"
      "  option tcplog\n"
      "  option splice-auto\n"
      "  default-server inter 3s\n"
      "  timeout client 4s\n"
      "listen l\n"
      "  bind :1\n"
      "  server s 127.0.0.1:1\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const Proxy& p = r.model.proxies[0];
  EXPECT_EQ(p.maxconn, 77U);
  ASSERT_TRUE(p.source.has_value());
  EXPECT_EQ(p.source->text, "10.1.1.1");
  EXPECT_TRUE(p.tcplog);
  EXPECT_TRUE(p.splice_auto);
  ASSERT_EQ(p.logs.size(), 1U);
  EXPECT_EQ(p.logs[0].addr.port(), 1514);
  EXPECT_EQ(p.logs[0].facility, 19);
  EXPECT_EQ(p.servers[0].inter, Millis(3000));
  EXPECT_EQ(p.timeouts.client, Millis(4000));
}

TEST(ConfigSections, IdsAreAssignedAroundExplicitOnes) {
  auto r = load(
      "backend a\n"
      "  server s1 127.0.0.1:1\n"
      "  server s2 127.0.0.1:2 id 1\n"
      "  server s3 127.0.0.1:3\n"
      "backend b\n"
      "  id 1\n"
      "backend c\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  EXPECT_EQ(r.model.proxies[0].id, 2);
  EXPECT_EQ(r.model.proxies[1].id, 1);
  EXPECT_EQ(r.model.proxies[2].id, 3);
  EXPECT_EQ(r.model.proxies[0].servers[0].id, 2);
  EXPECT_EQ(r.model.proxies[0].servers[1].id, 1);
  EXPECT_EQ(r.model.proxies[0].servers[2].id, 3);
}

TEST(ConfigSections, DuplicateIds) {
  auto r = load(
      "backend a\n"
      "  id 4\n"
      "  server s1 127.0.0.1:1 id 2\n"
      "  server s2 127.0.0.1:2 id 2\n"
      "backend b\n"
      "  id 4\n");
  EXPECT_EQ(errors(r), (std::vector<std::string>{
                           "t.cfg:4: [id] server id 2 is already used in 'a'",
                           "t.cfg:5: [id] proxy id 4 is already used by another proxy",
                       }));
}

TEST(ConfigSections, DuplicateProxiesOfTheSameCapability) {
  auto r = load(
      "frontend x\n  bind :1\n  default_backend x\n"
      "backend x\n"
      "listen x\n  bind :2\n"
      "backend y\nbackend y\n");
  EXPECT_EQ(errors(r), (std::vector<std::string>{
                           "t.cfg:5: [listen] listen 'x' has the same name as the frontend "
                           "declared at t.cfg:1",
                           "t.cfg:8: [backend] backend 'y' has the same name as the backend "
                           "declared at t.cfg:7",
                       }));
}

TEST(ConfigSections, KeywordsOutsideSections) {
  auto r = load("daemon\nglobal\n  daemon\n");
  EXPECT_EQ(errors(r), (std::vector<std::string>{
                           "t.cfg:1: [daemon] unknown keyword 'daemon' out of section (a file "
                           "must start with 'global', 'defaults', 'frontend', 'backend' or "
                           "'listen')"}));
  EXPECT_TRUE(r.model.global.daemon);
}

TEST(ConfigSections, UnsupportedSectionsGiveOneErrorAndSkipTheirLines) {
  auto r = load(
      "userlist users\n"  // implemented: parsed, no error
      "  user bob insecure-password x\n"
      "resolvers dns\n"
      "  nameserver ns1 1.1.1.1:53\n"
      "  whatever\n"
      "global\n"
      "  daemon\n"
      "peers p\n"
      "program api\n"
      "fcgi-app f\n"
      "cache c\n"
      "http-errors e\n"
      "ring r\n");
  EXPECT_EQ(errors(r), (std::vector<std::string>{
                           "t.cfg:3: [resolvers] 'resolvers' sections are not implemented yet in Sluice",
                           "t.cfg:8: [peers] 'peers' sections are not implemented yet in Sluice",
                           "t.cfg:9: [program] 'program' sections are not implemented yet in Sluice",
                           "t.cfg:10: [fcgi-app] 'fcgi-app' sections are not implemented yet in Sluice",
                           "t.cfg:11: [cache] 'cache' sections are not implemented yet in Sluice",
                           "t.cfg:13: [ring] 'ring' sections are not implemented yet in Sluice",
                       }));
  EXPECT_TRUE(r.model.global.daemon);
}

TEST(ConfigSections, SeveralFilesAndDirectories) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sluice-cfg-" + std::to_string(::getpid()));
  fs::create_directories(dir / "conf.d");
  auto write = [](const fs::path& p, const std::string& s) { std::ofstream(p) << s; };
  write(dir / "main.cfg", "global\n  maxconn 10\ndefaults\n  timeout client 1s\n");
  write(dir / "conf.d" / "20-be.cfg", "backend be\n  server s 127.0.0.1:1\n");
  write(dir / "conf.d" / "10-fe.cfg", "frontend fe\n  bind :1\n  default_backend be\n");
  write(dir / "conf.d" / "ignored.txt", "this is not read\n");
  auto r = load_files({(dir / "main.cfg").string(), (dir / "conf.d").string()});
  EXPECT_TRUE(r.ok()) << joined(errors(r));
  ASSERT_EQ(r.model.proxies.size(), 2U);
  EXPECT_EQ(r.model.proxies[0].name, "fe");  // 10-fe before 20-be
  EXPECT_EQ(r.model.proxies[0].timeouts.client, Millis(1000));
  EXPECT_EQ(r.model.global.maxconn, 10U);

  // A file ends its section: the next file must open one.
  write(dir / "tail.cfg", "  maxconn 5\n");
  auto r2 = load_files({(dir / "main.cfg").string(), (dir / "tail.cfg").string(),
                        (dir / "missing.cfg").string()});
  ASSERT_EQ(r2.errors.size(), 2U);
  EXPECT_EQ(r2.errors[0].loc.line, 1);
  EXPECT_EQ(r2.errors[0].keyword, "maxconn");
  EXPECT_EQ(format_diagnostic(r2.errors[1]),
            (dir / "missing.cfg").string() + ":0: [file] cannot open configuration file");
  fs::remove_all(dir);
}

TEST(ConfigSections, CrLfLinesAndProxyNames) {
  auto r = load("backend a\r\n  retries 2\r\nbackend b@d\n");
  EXPECT_EQ(errors(r), (std::vector<std::string>{
                           "t.cfg:3: [backend] invalid proxy name 'b@d' (letters, digits, '-', "
                           "'_', '.' and ':' only)"}));
  EXPECT_EQ(r.model.proxies[0].retries, 2U);
}

}  // namespace
}  // namespace sluice::config
