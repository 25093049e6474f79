#include "ctl.h"

#include <gtest/gtest.h>

namespace sluicectl {
namespace {

const char* kCsv =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,status,weight,type,addr,uweight,\n"
    "fe,FRONTEND,,,1,2,,10,OPEN,,0,,,\n"
    "app,a,0,0,0,3,,40,UP,10,2,127.0.0.1:8001,10,\n"
    "app,b,0,0,2,3,,41,UP,10,2,127.0.0.1:8002,10,\n"
    "app,c,0,0,0,3,,42,MAINT,10,2,127.0.0.1:8003,10,\n"
    "app,d,0,0,0,1,,43,UP,3,2,[::1]:8004,10,\n"
    "app,BACKEND,0,0,2,5,,160,UP,30,1,,,\n"
    "\n";

std::vector<StatRow> rows() {
  return *parse_stat_csv(kCsv);
}

TEST(StatCsv, NamesColumnsFromHeaderAndDropsTrailingComma) {
  auto r = rows();
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[1].get("svname"), "a");
  EXPECT_EQ(r[2].num("scur"), 2);
  EXPECT_EQ(r[2].get("addr"), "127.0.0.1:8002");
  EXPECT_TRUE(r[1].is_server());
  EXPECT_TRUE(r[5].is_backend());
  EXPECT_EQ(r[0].get("uweight"), "");
  EXPECT_EQ(r[0].get("nosuchcolumn"), "");
  EXPECT_EQ(r[0].num("qcur"), 0);
}

TEST(StatCsv, NoHeaderIsNotAStatsAnswer) {
  EXPECT_FALSE(parse_stat_csv("Unknown command.\n").has_value());
  auto empty = parse_stat_csv("# pxname,svname,\n\n");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(StatCsv, ReadyNeedsExactUpAndFullWeight) {
  auto r = rows();
  EXPECT_TRUE(server_ready(r[1]));
  EXPECT_FALSE(server_ready(r[3]));  // MAINT
  EXPECT_TRUE(server_up(r[4]));
  EXPECT_FALSE(server_ready(r[4]));  // slowstart: weight 3 of 10
  StatRow t;
  t.field = {{"status", "UP 1/3"}, {"weight", "1"}, {"uweight", "1"}};
  EXPECT_FALSE(server_ready(t));
  t.field["status"] = "DRAIN (agent)";
  EXPECT_FALSE(server_ready(t));
  // Without checks there is nothing to wait for once it is ready.
  t.field["status"] = "no check";
  EXPECT_TRUE(server_ready(t));
}

TEST(Roll, MarksOnlyTheChecksTheServerHas) {
  StatRow r;
  r.field = {{"status", "MAINT"}, {"check_status", "L4OK"}, {"agent_status", ""}};
  EXPECT_EQ(mark_unchecked_commands(r, "app", "a"),
            (std::vector<std::string>{"set server app/a health down"}));
  r.field["agent_status"] = "L7OK";
  EXPECT_EQ(
      mark_unchecked_commands(r, "app", "a"),
      (std::vector<std::string>{"set server app/a health down", "set server app/a agent down"}));
  r.field["check_status"] = "";
  EXPECT_EQ(mark_unchecked_commands(r, "app", "a"),
            (std::vector<std::string>{"set server app/a agent down"}));
  r.field["agent_status"] = "";  // no check at all: nothing would bring it back
  EXPECT_TRUE(mark_unchecked_commands(r, "app", "a").empty());
}

TEST(Template, SubstitutesShellQuoted) {
  EXPECT_EQ(
      substitute("restart {backend} {server} {addr}:{port} {other}", "app", "a", "10.0.0.1", "80"),
      "restart 'app' 'a' '10.0.0.1':'80' {other}");
  EXPECT_EQ(substitute("echo {server}", "b", "it's; rm -rf /", "", ""),
            "echo 'it'\\''s; rm -rf /'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(substitute("{server}{server}", "b", "x", "", ""), "'x''x'");
  EXPECT_EQ(substitute("{", "b", "x", "", ""), "{");
}

TEST(Template, SplitsAddresses) {
  EXPECT_EQ(split_addr("127.0.0.1:8080"),
            (std::pair<std::string, std::string>{"127.0.0.1", "8080"}));
  EXPECT_EQ(split_addr("[::1]:80"), (std::pair<std::string, std::string>{"::1", "80"}));
  EXPECT_EQ(split_addr("/run/app.sock"),
            (std::pair<std::string, std::string>{"/run/app.sock", ""}));
  EXPECT_EQ(split_list("a,,b,", ','), (std::vector<std::string>{"a", "b"}));
}

TEST(Plan, BatchesAllServersInOrder) {
  Plan p = build_plan(rows(), "app", {}, 1, 1);
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.batches.size(), 4u);
  EXPECT_EQ(p.batches[0][0].name, "a");
  EXPECT_EQ(p.batches[3][0].name, "d");
  EXPECT_EQ(p.batches[3][0].addr, "::1");
  EXPECT_EQ(p.batches[3][0].port, "8004");
  EXPECT_EQ(p.up_now, 3);
  EXPECT_EQ(p.min_up_during, 2);
}

TEST(Plan, BatchesOfTwoAndMinUp) {
  Plan p = build_plan(rows(), "app", {}, 2, 1);
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.batches.size(), 2u);
  EXPECT_EQ(p.min_up_during, 1);  // a and b out, d left
  Plan refused = build_plan(rows(), "app", {}, 2, 2);
  EXPECT_NE(refused.error.find("only 1 server(s)"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("--min-up is 2"), std::string::npos) << refused.error;
  Plan all = build_plan(rows(), "app", {}, 4, 1);
  EXPECT_NE(all.error, "");  // nothing UP while the whole backend is out
}

TEST(Plan, SelectedServersAndErrors) {
  Plan p = build_plan(rows(), "app", {"d", "a"}, 1, 1);
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.batches.size(), 2u);
  EXPECT_EQ(p.batches[0][0].name, "d");
  EXPECT_EQ(p.batches[1][0].name, "a");
  EXPECT_EQ(build_plan(rows(), "app", {"zz"}, 1, 1).error, "no such server 'app/zz'");
  EXPECT_EQ(build_plan(rows(), "nope", {}, 1, 1).error, "no such backend 'nope'");
  EXPECT_NE(build_plan(rows(), "app", {}, 0, 1).error, "");
}

TEST(Plan, DescribesCommands) {
  Plan p = build_plan(rows(), "app", {"a"}, 1, 0);
  std::string d = describe_plan(p, "systemctl restart app@{port}");
  EXPECT_NE(d.find("batch 1:"), std::string::npos) << d;
  EXPECT_NE(d.find("app/a (127.0.0.1:8001, UP)"), std::string::npos) << d;
  EXPECT_NE(d.find("exec: systemctl restart app@'8001'"), std::string::npos) << d;
}

}  // namespace
}  // namespace sluicectl
