#include "stats/graphite.h"

#include <gtest/gtest.h>

#include "fixture.h"

namespace sluice::stats {
namespace {

using V = std::vector<std::string>;

TEST(Graphite, Sanitize) {
  EXPECT_EQ(graphite_sanitize("web-1_a"), "web-1_a");
  EXPECT_EQ(graphite_sanitize("a.b c/d:é"), "a_b_c_d___");
  EXPECT_EQ(graphite_prefix("servers.<host>.haproxy", "lb1.example.com"),
            "servers.lb1_example_com.haproxy");
  EXPECT_EQ(graphite_prefix("x.", "h"), "x");
  EXPECT_EQ(graphite_prefix("", "h"), "");
}

TEST(Graphite, StatusValue) {
  EXPECT_EQ(graphite_status_value("UP"), 1);
  EXPECT_EQ(graphite_status_value("UP 1/3"), 1);
  EXPECT_EQ(graphite_status_value("OPEN"), 1);
  EXPECT_EQ(graphite_status_value("no check"), 1);
  EXPECT_EQ(graphite_status_value("DOWN"), 0);
  EXPECT_EQ(graphite_status_value("DOWN 1/2"), 0);
  EXPECT_EQ(graphite_status_value("MAINT"), 0);
  EXPECT_EQ(graphite_status_value("NOLB"), 0);
}

TEST(Graphite, Columns) {
  V unknown;
  auto cols = graphite_columns({"scur", "status", "check_duration", "pxname", "nope"}, unknown);
  EXPECT_EQ(cols, (std::vector<std::size_t>{Scur, Status, CheckDuration}));
  EXPECT_EQ(unknown, (V{"pxname", "nope"}));
  unknown.clear();
  auto all = graphite_columns({}, unknown);
  EXPECT_NE(std::find(all.begin(), all.end(), std::size_t{Stot}), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), std::size_t{Status}), all.end());
  EXPECT_EQ(std::find(all.begin(), all.end(), std::size_t{Svname}), all.end());
}

TEST(Graphite, Lines) {
  testing::Objects o(
      "listen web.site\n  mode http\n  bind :1\n  timeout client 1s\n  timeout connect 1s\n"
      "  timeout server 1s\n  server s.1 127.0.0.1:2\n");
  o.backends[0]->counters().total = 42;
  o.backends[0]->counters().cur = 3;
  auto rows = snapshot(o.sources());
  V unknown;
  auto cols = graphite_columns({"scur", "stot", "status", "check_duration"}, unknown);
  V out;
  graphite_lines(rows, "servers.h.haproxy", cols, 1700000000, out);
  auto has = [&](const std::string& l) {
    return std::find(out.begin(), out.end(), l) != out.end();
  };
  EXPECT_TRUE(has("servers.h.haproxy.web_site.BACKEND.stot 42 1700000000\n"))
      << ::testing::PrintToString(out);
  EXPECT_TRUE(has("servers.h.haproxy.web_site.BACKEND.scur 3 1700000000\n"));
  EXPECT_TRUE(has("servers.h.haproxy.web_site.FRONTEND.status 1 1700000000\n"));
  EXPECT_TRUE(has("servers.h.haproxy.web_site.s_1.scur 0 1700000000\n"));
  EXPECT_TRUE(has("servers.h.haproxy.web_site.s_1.status 1 1700000000\n"));  // "no check"
  // No check, so no check_duration line (empty values are skipped).
  for (const auto& l : out) EXPECT_EQ(l.find("check_duration"), std::string::npos) << l;
}

TEST(Graphite, BufferDropsOldestAndCounts) {
  LineBuffer b(3);
  for (int i = 0; i < 5; ++i) b.push("l" + std::to_string(i) + "\n");
  EXPECT_EQ(b.size(), 3U);
  EXPECT_EQ(b.dropped(), 2U);
  EXPECT_EQ(b.front(), "l2\n");
  std::string s;
  b.peek(s, 1000);
  EXPECT_EQ(s, "l2\nl3\nl4\n");
  b.consume(4);  // "l2\n" and one byte of "l3\n"
  EXPECT_EQ(b.size(), 2U);
  EXPECT_EQ(b.sent(), 1U);
  // The partly sent line is kept whole: the next one is dropped instead.
  b.push("l5\n");
  b.push("l6\n");
  EXPECT_EQ(b.dropped(), 3U);
  s.clear();
  b.peek(s, 1000);
  EXPECT_EQ(s, "3\nl5\nl6\n");
  b.rewind();
  s.clear();
  b.peek(s, 1000);
  EXPECT_EQ(s, "l3\nl5\nl6\n");
  EXPECT_GE(graphite_dropped_total(), 3U);
}

TEST(Graphite, Backoff) {
  Backoff b(200, 1000);
  EXPECT_EQ(b.next(), 200);
  EXPECT_EQ(b.next(), 400);
  EXPECT_EQ(b.next(), 800);
  EXPECT_EQ(b.next(), 1000);
  EXPECT_EQ(b.next(), 1000);
  b.reset();
  EXPECT_EQ(b.next(), 200);
}

}  // namespace
}  // namespace sluice::stats
