#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using V = std::vector<std::string>;
const char* kTail =
    "listen l\n  bind :1\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n"
    "  server s 127.0.0.1:2\n";

TEST(ConfigGraphite, Defaults) {
  auto r = testing::load(std::string("global\n  graphite 127.0.0.1:2003\n") + kTail);
  EXPECT_EQ(testing::errors(r), V{});
  ASSERT_TRUE(r.model.global.graphite);
  const auto& g = *r.model.global.graphite;
  EXPECT_EQ(g.addr.port(), 2003);
  EXPECT_EQ(g.interval, std::chrono::seconds(10));
  EXPECT_EQ(g.prefix, "servers.<host>.haproxy");
  EXPECT_TRUE(g.metrics.empty());
  EXPECT_EQ(g.buffer_lines, 10000U);
}

TEST(ConfigGraphite, Options) {
  auto r = testing::load(std::string("global\n  graphite 127.0.0.1:2103 interval 1s prefix "
                                     "lb.<host> metrics status,check_duration,scur buffer 50\n") +
                         kTail);
  EXPECT_EQ(testing::errors(r), V{});
  const auto& g = *r.model.global.graphite;
  EXPECT_EQ(g.interval, std::chrono::seconds(1));
  EXPECT_EQ(g.prefix, "lb.<host>");
  EXPECT_EQ(g.metrics, (V{"status", "check_duration", "scur"}));
  EXPECT_EQ(g.buffer_lines, 50U);
}

TEST(ConfigGraphite, Errors) {
  auto r = testing::load(std::string("global\n"
                                     "  graphite\n"
                                     "  graphite 127.0.0.1\n"
                                     "  graphite 127.0.0.1:2003 colour red\n"
                                     "  graphite 127.0.0.1:2003 interval\n"
                                     "  graphite 127.0.0.1:2003 metrics Scur,\n"
                                     "  graphite 127.0.0.1:2003 interval 10ms\n") +
                         kTail);
  auto e = testing::errors(r);
  ASSERT_EQ(e.size(), 6U);
  EXPECT_EQ(e[0].rfind("t.cfg:2: [graphite] 'graphite' expects ADDR:PORT", 0), 0U) << e[0];
  EXPECT_EQ(e[1].rfind("t.cfg:3: [graphite]", 0), 0U) << e[1];
  EXPECT_EQ(e[2],
            "t.cfg:4: [graphite] unknown 'graphite' option 'colour' (expected interval, "
            "prefix, metrics or buffer)");
  EXPECT_EQ(e[3], "t.cfg:5: [graphite] 'interval' expects a value");
  EXPECT_EQ(e[4], "t.cfg:6: [graphite] invalid metric name 'Scur' in 'metrics'");
  EXPECT_EQ(e[5], "t.cfg:7: [graphite] 'interval' must be at least 100ms, got '10ms'");
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigAlert, Parse) {
  auto r = testing::load(
      "backend app\n  timeout connect 1s\n  timeout server 1s\n  server s 127.0.0.1:2\n"
      "  alert errs if rate(hrsp_5xx) > 2.5 over 5s exec \"touch /tmp/x\"\n"
      "  alert slow if median(check_duration) >= 100 post http://127.0.0.1:9/hook\n"
      "  alert none if act == 0 exec true\n");
  EXPECT_EQ(testing::errors(r), V{});
  const auto& a = r.model.proxies[0].alerts;
  ASSERT_EQ(a.size(), 3U);
  EXPECT_EQ(a[0].fn, AlertDef::Fn::Rate);
  EXPECT_EQ(a[0].column, "hrsp_5xx");
  EXPECT_EQ(a[0].threshold, 2.5);
  EXPECT_EQ(a[0].window, std::chrono::seconds(5));
  EXPECT_EQ(a[0].target, "touch /tmp/x");
  EXPECT_EQ(a[1].fn, AlertDef::Fn::Median);
  EXPECT_EQ(a[1].action, AlertDef::Action::Post);
  EXPECT_EQ(a[2].fn, AlertDef::Fn::Value);
  EXPECT_EQ(a[2].window, std::chrono::seconds(10));
}

TEST(ConfigAlert, Errors) {
  auto r = testing::load(
      "backend app\n  timeout connect 1s\n  timeout server 1s\n  server s 127.0.0.1:2\n"
      "  alert x if scur ~ 1 exec true\n"
      "  alert x if median(scur) > 1 exec true\n"
      "  alert x if scur > 1 mail root\n"
      "  alert x if scur > 1 post ftp://a\n"
      "  alert x if scur > abc exec true\n"
      "  alert x\n");
  auto e = testing::errors(r);
  ASSERT_EQ(e.size(), 6U);
  EXPECT_EQ(e[0], "t.cfg:5: [alert] unknown operator '~' (expected >, >=, <, <=, == or !=)");
  EXPECT_EQ(e[1],
            "t.cfg:6: [alert] 'median(...)' supports check_duration only, got 'median(scur)'");
  EXPECT_EQ(e[2], "t.cfg:7: [alert] unknown alert action 'mail' (expected exec or post)");
  EXPECT_EQ(e[3], "t.cfg:8: [alert] 'post' expects an http:// URL, got 'ftp://a'");
  EXPECT_EQ(e[4], "t.cfg:9: [alert] invalid threshold 'abc'");
  EXPECT_EQ(e[5].rfind("t.cfg:10: [alert] 'alert' expects NAME if", 0), 0U);
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigMailers, SectionAndEmailAlert) {
  auto r = testing::load(
      "mailers m\n  mailer smtp1 127.0.0.1:25\n  mailer smtp2 127.0.0.1:2525\n"
      "  timeout mail 20s\n"
      "defaults\n  email-alert mailers m\n  email-alert from a@b\n  email-alert to c@d\n"
      "backend app\n  timeout connect 1s\n  timeout server 1s\n  email-alert level notice\n"
      "  server s 127.0.0.1:2\n");
  EXPECT_EQ(testing::errors(r), V{});
  ASSERT_EQ(r.model.mailers.size(), 1U);
  EXPECT_EQ(r.model.mailers[0].mailers.size(), 2U);
  EXPECT_EQ(r.model.mailers[0].mailers[1].addr.port(), 2525);
  EXPECT_EQ(r.model.mailers[0].timeout, std::chrono::seconds(20));
  const auto& e = r.model.proxies[0].email_alert;
  EXPECT_EQ(e.mailers, "m");  // from defaults
  EXPECT_EQ(e.from, "a@b");
  EXPECT_EQ(e.to, "c@d");
  EXPECT_EQ(e.level, 5);  // notice
}

TEST(ConfigMailers, Errors) {
  auto r = testing::load(
      "mailers m\n  mailer smtp1 127.0.0.1\n  timeout mail 0\n"
      "backend app\n  timeout connect 1s\n  timeout server 1s\n  email-alert level loud\n"
      "  email-alert mailers nope\n  server s 127.0.0.1:2\n");
  auto e = testing::errors(r);
  ASSERT_EQ(e.size(), 4U) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0].rfind("t.cfg:2: [mailer]", 0), 0U);
  EXPECT_EQ(e[1], "t.cfg:3: [timeout mail] 'timeout mail' must be positive");
  EXPECT_EQ(e[2], "t.cfg:7: [email-alert level] unknown log level 'loud'");
  EXPECT_EQ(e[3], "t.cfg:8: [email-alert mailers] unknown mailers section 'nope'");
}

}  // namespace
}  // namespace sluice::config
