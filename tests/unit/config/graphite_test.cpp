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
  EXPECT_EQ(e[2], "t.cfg:4: [graphite] unknown 'graphite' option 'colour' (expected interval, "
                  "prefix, metrics or buffer)");
  EXPECT_EQ(e[3], "t.cfg:5: [graphite] 'interval' expects a value");
  EXPECT_EQ(e[4], "t.cfg:6: [graphite] invalid metric name 'Scur' in 'metrics'");
  EXPECT_EQ(e[5], "t.cfg:7: [graphite] 'interval' must be at least 100ms, got '10ms'");
}

}  // namespace
}  // namespace sluice::config
