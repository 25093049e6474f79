// The Prometheus page, expvar and the HTML stats page from snapshots of
// configured objects: names, labels, state series, escaping, sparkline.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "fixture.h"
#include "proxy/check_history.h"
#include "stats/expvar.h"
#include "stats/page.h"
#include "stats/prometheus.h"

namespace sluice::stats {
namespace {

const char* kConfig =
    "defaults\n  mode http\n"
    "frontend fe\n  bind :1\n  default_backend app\n"
    "backend app\n"
    "  server s1 127.0.0.1:2 check\n"
    "  server s2 127.0.0.1:3\n";

std::string page_of(const testing::Objects& o) {
  std::string out;
  ProcessInfo p;
  p.start_wall_s = 100;
  p.now_wall_s = 160;
  p.version = "t";
  append_prometheus(out, snapshot(o.sources()), p);
  return out;
}

TEST(Prometheus, FamiliesHaveHelpAndTypeOnceBeforeTheirSamples) {
  testing::Objects o(kConfig);
  const std::string page = page_of(o);
  std::set<std::string> typed;
  std::string current;
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "second TYPE for " << name;
      current = name;
      continue;
    }
    if (line[0] == '#') continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name, current) << line;
  }
  EXPECT_TRUE(typed.count("haproxy_server_status"));
  EXPECT_TRUE(typed.count("haproxy_backend_active_servers"));
  EXPECT_TRUE(typed.count("haproxy_frontend_http_requests_total"));
  EXPECT_NE(page.find("haproxy_process_uptime_seconds 60\n"), std::string::npos);
}

TEST(Prometheus, ServerStateSeriesAndMaintenance) {
  testing::Objects o(kConfig);
  auto& s2 = *o.backends[0]->servers()[1];
  o.backends[0]->set_server_maint(s2, true);
  const std::string page = page_of(o);
  EXPECT_NE(page.find("haproxy_server_status{proxy=\"app\",server=\"s2\",state=\"MAINT\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.find("haproxy_server_status{proxy=\"app\",server=\"s2\",state=\"UP\"} 0\n"),
            std::string::npos);
  EXPECT_NE(page.find("haproxy_backend_agg_server_status{proxy=\"app\",state=\"MAINT\"} 1\n"),
            std::string::npos);
  EXPECT_NE(page.find("haproxy_frontend_http_responses_total{proxy=\"fe\",code=\"2xx\"} 0\n"),
            std::string::npos);
  // A millisecond column in seconds.
  EXPECT_TRUE(std::regex_search(
      page, std::regex("haproxy_backend_connect_time_average_seconds\\{proxy=\"app\"\\} 0\\.000\n")));
}

TEST(Expvar, GoShapedDocument) {
  testing::Objects o(kConfig);
  ProcessInfo p;
  p.start_wall_s = 10;
  p.now_wall_s = 15;
  auto doc = nlohmann::json::parse(expvar_json(snapshot(o.sources()), p));
  EXPECT_TRUE(doc["cmdline"].is_array());
  EXPECT_EQ(doc["memstats"]["NumGC"], 0);
  EXPECT_GT(doc["memstats"]["Alloc"].get<long>(), 0);
  EXPECT_EQ(doc["sluice"]["uptime_seconds"], 5);
  EXPECT_EQ(doc["sluice"]["proxies"]["app"]["servers"]["s2"]["weight"], 1);
  EXPECT_EQ(doc["sluice"]["proxies"]["fe"]["frontend"]["status"], "OPEN");
}

TEST(StatsPage, RowsCarryStateClassesAndNamesAreEscaped) {
  testing::Objects o(
      "defaults\n  mode http\nbackend app\n  server \"<b>\" 127.0.0.1:2\n"
      "  server s2 127.0.0.1:3\n");
  o.backends[0]->set_server_drain(*o.backends[0]->servers()[1], true);
  PageOptions opt;
  opt.uri = "/st";
  opt.admin = true;
  std::string html = render_page(snapshot(o.sources()), opt,
                                 [](int, int) { return std::vector<std::int32_t>{3, 9, 4}; });
  EXPECT_NE(html.find("data-name=\"&lt;b&gt;\""), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"drain\" data-name=\"s2\">"), std::string::npos);
  EXPECT_NE(html.find("<form class=\"admin\" method=\"post\" action=\"/st\">"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  opt.admin = false;
  html = render_page(snapshot(o.sources()), opt, [](int, int) { return std::vector<std::int32_t>{}; });
  EXPECT_EQ(html.find("<form"), std::string::npos);
}

TEST(StatsPage, SparklineScalesToTheHighestDuration) {
  EXPECT_EQ(sparkline({5}), "");
  const std::string s = sparkline({0, 10});
  EXPECT_NE(s.find("points=\"1.0,17.0 79.0,1.0\""), std::string::npos) << s;
}

TEST(CheckHistory, KeepsTheLastTwentyOldestFirst) {
  proxy::CheckHistory h;
  EXPECT_TRUE(h.read().empty());
  for (int i = 1; i <= 25; ++i) h.push(i);
  auto v = h.read();
  ASSERT_EQ(v.size(), 20u);
  EXPECT_EQ(v.front(), 6);
  EXPECT_EQ(v.back(), 25);
}

}  // namespace
}  // namespace sluice::stats
