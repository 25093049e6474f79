// `stats enable|uri|refresh|auth|realm|admin|...` and `http-request
// use-service`: values kept, inheritance from defaults, bad lines refused
// with FILE:LINE and the keyword.

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::joined;
using testing::load;

TEST(ConfigStatsPage, KeywordsFillThePage) {
  auto r = load(
      "defaults\n"
      "  mode http\n"
      "  stats realm Ops\\ Area\n"
      "listen l\n"
      "  bind :1\n"
      "  stats uri /st\n"
      "  stats refresh 5s\n"
      "  stats auth admin:secret\n"
      "  stats auth ro:pw\n"
      "  stats admin if TRUE\n"
      "  stats hide-version\n"
      "  stats show-legends\n"
      "  stats scope .\n"
      "  server s 127.0.0.1:2\n"
      "frontend f\n"
      "  bind :3\n"
      "  http-request use-service prometheus-exporter if { path /metrics }\n"
      "  http-request use-service expvar\n"
      "  default_backend l\n");
  ASSERT_TRUE(r.errors.empty()) << joined(errors(r));
  const Proxy& l = *r.model.find_proxy("l");
  EXPECT_TRUE(l.stats_page.enabled);
  EXPECT_EQ(l.stats_page.uri, "/st");
  EXPECT_EQ(l.stats_page.refresh_s, 5u);
  EXPECT_EQ(l.stats_page.auth, (std::vector<std::string>{"admin:secret", "ro:pw"}));
  EXPECT_EQ(l.stats_page.realm, "Ops Area");
  EXPECT_EQ(l.stats_page.admin.size(), 1u);
  EXPECT_TRUE(l.stats_page.hide_version);
  EXPECT_TRUE(l.stats_page.show_legends);
  EXPECT_EQ(l.stats_page.scope, (std::vector<std::string>{"."}));
  const Proxy& f = *r.model.find_proxy("f");
  EXPECT_TRUE(f.stats_page.enabled);  // the realm in defaults enables it, as in haproxy
  ASSERT_EQ(f.http_request_rules.size(), 2u);
  EXPECT_EQ(f.http_request_rules[0].action, HttpRule::Action::UseService);
  EXPECT_EQ(f.http_request_rules[0].service, HttpRule::Service::Prometheus);
  EXPECT_TRUE(f.http_request_rules[0].cond.has_value());
  EXPECT_EQ(f.http_request_rules[1].service, HttpRule::Service::Expvar);
}

TEST(ConfigStatsPage, MalformedLinesAreErrors) {
  auto r = load(
      "listen l\n"
      "  mode http\n"
      "  bind :1\n"
      "  stats uri\n"
      "  stats uri noslash\n"
      "  stats auth nocolon\n"
      "  stats refresh soon\n"
      "  stats admin\n"
      "  stats enable now\n"
      "  http-request use-service prometheus\n"
      "  http-request use-service\n"
      "  server s 127.0.0.1:2\n");
  EXPECT_EQ(errors(r),
            (std::vector<std::string>{
                "t.cfg:4: [stats uri] 'stats uri' expects a URI prefix",
                "t.cfg:5: [stats uri] 'stats uri' expects a URI prefix starting with '/' (got "
                "'noslash')",
                "t.cfg:6: [stats auth] 'stats auth' expects user:password (got 'nocolon')",
                "t.cfg:7: [stats refresh] stats refresh: expected a time like 5s, got 'soon'",
                "t.cfg:8: [stats admin] 'stats admin' expects 'if' or 'unless' followed by a "
                "condition",
                "t.cfg:9: [stats enable] unexpected argument 'now' ('stats enable' expects no "
                "argument)",
                "t.cfg:10: [http-request] unknown service 'prometheus' (Sluice provides "
                "prometheus-exporter and expvar)",
                "t.cfg:11: [http-request] 'http-request use-service' expects a service name "
                "(prometheus-exporter or expvar)",
            }));
}

TEST(ConfigStatsPage, TcpModeIgnoresTheStatsPageWithAWarning) {
  auto r = load("listen l\n  mode tcp\n  bind :1\n  stats enable\n  server s 127.0.0.1:2\n");
  EXPECT_TRUE(r.errors.empty()) << joined(errors(r));
  EXPECT_FALSE(r.model.find_proxy("l")->stats_page.enabled);
  EXPECT_NE(joined(testing::warnings(r)).find("'stats' statements ignored for proxy 'l' as they "
                                              "require 'mode http'"),
            std::string::npos)
      << joined(testing::warnings(r));
}

TEST(ConfigStatsPage, AdminIsRefusedInDefaults) {
  auto r = load("defaults\n  mode http\n  stats admin if TRUE\n");
  ASSERT_EQ(errors(r).size(), 1u);
  EXPECT_NE(errors(r)[0].find("t.cfg:3: [stats admin]"), std::string::npos) << errors(r)[0];
}

}  // namespace
}  // namespace sluice::config
