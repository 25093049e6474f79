#include "checks/agent_reply.h"

#include <gtest/gtest.h>

namespace sluice::checks {
namespace {

using H = AgentReply::Health;
using A = AgentReply::Admin;

TEST(AgentReply, SingleWords) {
  EXPECT_EQ(parse_agent_reply("up\n").health, H::Up);
  EXPECT_EQ(parse_agent_reply("DOWN\r\n").health, H::Down);
  EXPECT_EQ(parse_agent_reply("fail").health, H::Fail);
  EXPECT_EQ(parse_agent_reply("stopped\n").health, H::Stopped);
  EXPECT_EQ(parse_agent_reply("ready\n").admin, A::Ready);
  EXPECT_EQ(parse_agent_reply("drain\n").admin, A::Drain);
  EXPECT_EQ(parse_agent_reply("maint\n").admin, A::Maint);
  EXPECT_EQ(parse_agent_reply("75%\n").weight_percent, 75U);
  EXPECT_EQ(parse_agent_reply("maxconn:30\n").maxconn, 30U);
}

TEST(AgentReply, CombinedWordsInAnyOrderWithAnySeparator) {
  AgentReply r = parse_agent_reply("75% ready\n");
  EXPECT_EQ(r.weight_percent, 75U);
  EXPECT_EQ(r.admin, A::Ready);
  EXPECT_FALSE(r.health);
  r = parse_agent_reply("up,\t50%,drain maxconn:7\n");
  EXPECT_EQ(r.health, H::Up);
  EXPECT_EQ(r.weight_percent, 50U);
  EXPECT_EQ(r.admin, A::Drain);
  EXPECT_EQ(r.maxconn, 7U);
}

TEST(AgentReply, DescriptionAfterSharpRunsToTheEndOfTheLine) {
  AgentReply r = parse_agent_reply("50% down # disk full on /var  \nup\n");
  EXPECT_EQ(r.health, H::Down);
  EXPECT_EQ(r.description, "disk full on /var");
  EXPECT_EQ(r.weight_percent, 50U);
  r = parse_agent_reply("fail #disk full 75%\n");  // the description eats the rest
  EXPECT_EQ(r.health, H::Fail);
  EXPECT_EQ(r.description, "disk full 75%");
  EXPECT_FALSE(r.weight_percent);
  // A '#' glued to a word makes it unknown, as haproxy 2.6 reads it.
  EXPECT_FALSE(parse_agent_reply("down#xy\n").health);
}

TEST(AgentReply, OnlyTheFirstLineAndUnknownWordsIgnored) {
  AgentReply r = parse_agent_reply("hello 12 x% \rup\n");
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(parse_agent_reply("").empty());
  EXPECT_TRUE(parse_agent_reply("\n75%\n").empty());
}

}  // namespace
}  // namespace sluice::checks
