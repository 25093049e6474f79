// Agent words, slowstart and the check-duration watch as the backend
// applies them (no sockets: results are fed directly).

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "proxy/backend.h"
#include "proxy/balancer.h"

namespace sluice::proxy {
namespace {

config::ServerDef srv(const std::string& name, int id, unsigned weight = 10) {
  config::ServerDef s;
  s.name = name;
  s.id = id;
  s.weight = weight;
  s.agent_check = true;
  s.agent_port = 9999;
  auto& in = reinterpret_cast<sockaddr_in&>(s.addr.storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<std::uint16_t>(8000 + id));
  s.addr.length = sizeof(sockaddr_in);
  return s;
}

checks::CheckResult agent_line(const std::string& line) {
  checks::CheckResult r;
  r.status = checks::CheckStatus::L7Ok;
  r.info = line;
  return r;
}

TEST(AgentResult, DrainWeightAndUpFollowTheAgent) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1), srv("b", 2)};
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  auto g = be.generation();
  be.on_agent_result(a, agent_line("drain"));
  EXPECT_GT(be.generation(), g);
  EXPECT_FALSE(a.usable());
  EXPECT_TRUE(a.up());
  EXPECT_EQ(usable_members(be).size(), 1U);
  be.on_agent_result(a, agent_line("50%"));  // weight changes, still drained
  EXPECT_EQ(a.weight(), 5U);
  EXPECT_FALSE(a.usable());
  be.on_agent_result(a, agent_line("up 100% ready"));
  EXPECT_TRUE(a.usable());
  EXPECT_EQ(a.weight(), 10U);
  be.on_agent_result(a, agent_line("300%"));  // capped at 256
  EXPECT_EQ(a.weight(), 30U);
  be.on_agent_result(a, agent_line("0%"));
  EXPECT_FALSE(a.usable());
}

TEST(AgentResult, DownNeedsAgentUpAndHealthCheckUp) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1)};
  p.servers[0].rise = 2;
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  be.on_agent_result(a, agent_line("fail #disk full"));
  EXPECT_FALSE(a.up());
  EXPECT_FALSE(a.agent_ok());
  EXPECT_EQ(a.check().downs.load(), 1U);
  // Unreachable agent: not an error, nothing changes.
  checks::CheckResult refused;
  refused.status = checks::CheckStatus::L4Con;
  be.on_agent_result(a, refused);
  EXPECT_FALSE(a.up());
  // Weight-only answers do not count as "up".
  be.on_agent_result(a, agent_line("100%"));
  be.on_agent_result(a, agent_line("100%"));
  EXPECT_FALSE(a.up());
  be.on_agent_result(a, agent_line("up"));
  EXPECT_FALSE(a.up());  // rise 2
  be.on_agent_result(a, agent_line("up"));
  EXPECT_TRUE(a.up());
  // The health check goes down, then the agent says up: still down until
  // the health check rises again.
  checks::CheckResult bad;
  bad.status = checks::CheckStatus::L4Con;
  checks::Health h(2, 3);
  be.on_check_result(a, bad, checks::HealthChange::WentDown, h);
  EXPECT_FALSE(a.up());
  be.on_agent_result(a, agent_line("up"));
  EXPECT_FALSE(a.up());
  checks::CheckResult good;
  good.status = checks::CheckStatus::L4Ok;
  be.on_check_result(a, good, checks::HealthChange::WentUp, h);
  EXPECT_TRUE(a.up());
}

TEST(AgentResult, MaintAndReady) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1)};
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  be.on_agent_result(a, agent_line("maint"));
  EXPECT_TRUE(a.maint());
  EXPECT_EQ(be.active_up(), 0U);
  be.on_agent_result(a, agent_line("ready"));
  EXPECT_FALSE(a.maint());
  EXPECT_TRUE(a.usable());
}

TEST(Slowstart, WeightRampsFromOneToFull) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1, 100)};
  p.servers[0].slowstart = Millis(10000);
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  EXPECT_EQ(a.weight(), 100U);  // never at start-up
  be.set_server_down(a, nullptr);
  be.set_server_up(a, nullptr);
  EXPECT_TRUE(a.warming());
  EXPECT_EQ(a.weight(), 1U);
  std::int64_t t0 = a.check_local().warm_start_ms;
  EXPECT_TRUE(a.update_weight(t0 + 2500));
  EXPECT_EQ(a.weight(), 25U);
  EXPECT_TRUE(a.update_weight(t0 + 5000));
  EXPECT_EQ(a.weight(), 50U);
  EXPECT_TRUE(a.update_weight(t0 + 10000));
  EXPECT_EQ(a.weight(), 100U);
  EXPECT_FALSE(a.warming());
  EXPECT_FALSE(a.update_weight(t0 + 20000));
}

TEST(CheckDurationAlert, WatchIsKeptPerServer) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1)};
  p.check_duration_alert = config::Proxy::CheckDurationAlert{Millis(50), 3};
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  ASSERT_TRUE(a.check_local().duration.has_value());
  checks::Health h(2, 3);
  checks::CheckResult r;
  r.status = checks::CheckStatus::L4Ok;
  r.duration_ms = 80;
  for (int i = 0; i < 3; ++i) be.on_check_result(a, r, checks::HealthChange::None, h);
  EXPECT_TRUE(a.check_local().duration->alerting());
  EXPECT_EQ(be.duration_alert_message(a, true),
            "Server be/a check duration median 80ms over the last 3 checks is above the 50ms "
            "alert threshold.");
}

}  // namespace
}  // namespace sluice::proxy

namespace sluice::proxy {
namespace {

TEST(AgentResult, MaxconnSetsTheServerLimit) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1)};
  p.servers[0].maxconn = 5;
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  EXPECT_EQ(a.maxconn(), 5U);
  be.on_agent_result(a, agent_line("up maxconn:1"));
  EXPECT_EQ(a.maxconn(), 1U);
  EXPECT_TRUE(a.try_acquire());
  EXPECT_TRUE(a.full());
  EXPECT_FALSE(a.try_acquire());
  be.on_agent_result(a, agent_line("maxconn:3"));
  EXPECT_FALSE(a.full());
  EXPECT_TRUE(a.try_acquire());
  EXPECT_EQ(a.connections(), 2U);
}

TEST(SendState, HeaderValueAsHaproxyWritesIt) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1, 3), srv("b", 2, 5), srv("c", 3, 7)};
  p.servers[2].backup = true;
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  checks::Health h(2, 3);  // starts at health == rise: "UP 1/3"
  EXPECT_EQ(be.state_header(a, h, "lb1"),
            "UP 1/3; address=0.0.0.0; port=8001; name=be/a; node=lb1; weight=3/8; scur=0/0; "
            "qcur=0");
  h.on_result(true);
  a.counters().enter();
  be.counters().enter();
  EXPECT_EQ(be.state_header(a, h, "lb1").substr(0, 3), "UP;");
  EXPECT_NE(be.state_header(a, h, "lb1").find("; scur=1/1; qcur=0"), std::string::npos);
  h.on_result(false);
  h.on_result(false);
  h.on_result(false);
  be.set_server_down(a, nullptr);
  EXPECT_EQ(be.state_header(a, h, "lb1").substr(0, 14), "DOWN; address=");
  EXPECT_NE(be.state_header(a, h, "lb1").find("weight=3/5"), std::string::npos);
  h.on_result(true);
  EXPECT_EQ(be.state_header(a, h, "lb1").substr(0, 10), "DOWN 1/2; ");
}

}  // namespace
}  // namespace sluice::proxy
