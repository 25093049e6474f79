#include "runtime/cli.h"

#include <gtest/gtest.h>

#include "../stats/fixture.h"

namespace sluice::runtime {
namespace {

using V = std::vector<std::vector<std::string>>;

TEST(CliParse, CommandsAndWords) {
  EXPECT_EQ(split_commands("show stat"), (V{{"show", "stat"}}));
  EXPECT_EQ(split_commands("  show  backend ;show cli level"),
            (V{{"show", "backend"}, {"show", "cli", "level"}}));
  EXPECT_EQ(split_commands("set server a/b\\;c state\\ x"), (V{{"set", "server", "a/b;c", "state x"}}));
  EXPECT_EQ(split_commands(""), (V{{}}));
  EXPECT_EQ(split_commands(";"), (V{{}, {}}));
  EXPECT_EQ(split_commands("help\r"), (V{{"help"}}));
}

constexpr const char* kConfig =
    "defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
    "listen app\n  bind 127.0.0.1:1\n  server a 127.0.0.1:81\n  server b 127.0.0.1:82 check\n"
    "backend st\n  balance static-rr\n  server s 127.0.0.1:83\n";

struct Cli {
  testing::Objects o{kConfig};
  CliEnv env;
  CliState st;
  Cli() {
    for (const auto& e : o.entries)
      env.proxies.push_back({const_cast<proxy::Frontend*>(e.fe), const_cast<proxy::Backend*>(e.be)});
    st.level = CliLevel::Admin;
  }
  std::string run(const std::string& line) {
    std::string out;
    for (const auto& words : split_commands(line)) out += run_command(env, st, words).text;
    return out;
  }
  proxy::Backend& app() { return *o.backends[0]; }
};

TEST(CliCommands, ShowBackendAndLevels) {
  Cli c;
  EXPECT_EQ(c.run("show backend"), "# name\napp\nst\n\n");
  EXPECT_EQ(c.run("show cli level"), "admin\n\n");
  c.st.level = CliLevel::User;
  EXPECT_EQ(c.run("disable server app/a"), "Permission denied\n\n");
  EXPECT_EQ(c.run("clear counters"), "Permission denied\n\n");
  EXPECT_FALSE(c.app().servers()[0]->maint());
  EXPECT_EQ(c.run("show cli level"), "user\n\n");
  EXPECT_EQ(c.run("operator"), "Permission denied\n\n");
  c.st.level = CliLevel::Operator;
  EXPECT_EQ(c.run("clear counters"), "\n");
  EXPECT_EQ(c.run("clear counters all"), "Permission denied\n\n");
  // Help lists only what the level allows.
  EXPECT_EQ(c.run("help").find("disable server"), std::string::npos);
  EXPECT_NE(c.run("help").find("show stat"), std::string::npos);
}

TEST(CliCommands, UnknownCommands) {
  Cli c;
  EXPECT_EQ(c.run("frobnicate").rfind("Unknown command. Please enter one of the following commands only:\n", 0), 0U);
  std::string near = c.run("show nothing");
  EXPECT_EQ(near.rfind("Unknown command, but maybe one of the following ones is a better match:\n", 0), 0U);
  EXPECT_NE(near.find("  show stat"), std::string::npos);
  EXPECT_EQ(near.find("  add server"), std::string::npos);
  EXPECT_EQ(near.substr(near.size() - 2), "\n\n");
}

TEST(CliCommands, ServerAdministration) {
  Cli c;
  proxy::Server& a = *c.app().servers()[0];
  EXPECT_EQ(c.run("disable server app/a"), "\n");
  EXPECT_TRUE(a.maint());
  EXPECT_EQ(c.run("set server app/a state ready"), "\n");
  EXPECT_FALSE(a.maint());
  EXPECT_EQ(c.run("set server app/a state drain"), "\n");
  EXPECT_FALSE(a.usable());
  EXPECT_EQ(c.run("set server app/a state nap"),
            "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n");
  EXPECT_EQ(c.run("set weight app/a 7; get weight app/a"), "\n7 (initial 1)\n\n");
  EXPECT_EQ(c.run("set weight app/a 300"), "Absolute weight can only be between 0 and 256 inclusive.\n\n");
  EXPECT_EQ(c.run("set weight app/a x"), "Empty weight string empty or preceded by garbage\n");
  EXPECT_EQ(c.run("set weight app/zz 1"), "No such server.\n\n");
  EXPECT_EQ(c.run("set weight nope/a 1"), "No such backend.\n\n");
  EXPECT_EQ(c.run("set weight app 1"), "Require 'backend/server'.\n\n");
  EXPECT_EQ(c.run("set weight st/s 5"),
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n");
  EXPECT_EQ(c.run("set weight st/s 0%"), "\n");
  EXPECT_EQ(c.run("set server app/a addr 127.0.0.9 port 90"),
            "IP changed from '127.0.0.1' to '127.0.0.9', port changed from '81' to '90' by 'stats "
            "socket command'\n\n");
  EXPECT_EQ(a.addr().port(), 90);
  EXPECT_EQ(c.run("set maxconn server app/a 3"), "\n");
  EXPECT_EQ(a.maxconn(), 3U);
  EXPECT_EQ(c.run("set maxconn frontend app 50"), "\n");
  EXPECT_EQ(c.o.frontends[0]->maxconn(), 50U);
  EXPECT_EQ(c.run("enable health app/a"),
            "Health check was not configured on this server, cannot enable.\n\n");
  EXPECT_EQ(c.run("shutdown sessions server app/a"),
            "'shutdown sessions server' is not implemented yet in Sluice.\n\n");
}

TEST(CliCommands, HealthDisabledServerComesBackUp) {
  Cli c;
  proxy::Server& b = *c.app().servers()[1];
  c.app().set_server_down(b, nullptr);
  b.set_check_ok(false);
  EXPECT_FALSE(b.up());
  EXPECT_EQ(c.run("disable health app/b"), "\n");
  EXPECT_TRUE(b.up());
  EXPECT_FALSE(b.health_enabled());
  EXPECT_EQ(c.run("enable health app/b"), "\n");
  EXPECT_TRUE(b.health_enabled());
}

TEST(CliCommands, AddAndDeleteServers) {
  Cli c;
  EXPECT_EQ(c.run("add server app/n 127.0.0.1:99 weight 4 maxconn 8"), "New server registered.\n\n");
  proxy::Server* n = c.app().find_server("n");
  ASSERT_NE(n, nullptr);
  EXPECT_TRUE(n->maint());
  EXPECT_TRUE(n->dynamic());
  EXPECT_EQ(n->def().id, 3);
  EXPECT_EQ(n->uweight(), 4U);
  EXPECT_EQ(n->maxconn(), 8U);
  EXPECT_EQ(c.run("add server app/n 127.0.0.1:99"),
            "Already exists a server with the same name in backend.\n\n");
  EXPECT_EQ(c.run("add server app/m 127.0.0.1:99 bogus").rfind("unknown server keyword 'bogus'", 0), 0U);
  EXPECT_EQ(c.run("add server app/m"), "'server' expects <name> and <addr>[:<port>] as arguments.\n\n");
  EXPECT_EQ(c.run("add server st/m 127.0.0.1:1"),
            "Backend must use a dynamic load balancing to support dynamic servers.\n");
  EXPECT_EQ(c.run("add server app/q \"127.0.0.1:1\""), "invalid character in '\"127.0.0.1:1\"'.\n\n");
  EXPECT_EQ(c.run("del server app/a"), "Only servers in maintenance mode can be deleted.\n");
  EXPECT_EQ(c.run("del server app/n"), "Server deleted.\n");
  EXPECT_EQ(c.app().find_server("n"), nullptr);
  EXPECT_EQ(c.run("get weight app/n"), "No such server.\n\n");
  // Deleted servers leave the stats and the state dump; the name is free again.
  EXPECT_EQ(c.run("show stat").find("app,n,"), std::string::npos);
  EXPECT_EQ(c.run("add server app/n 127.0.0.1:98"), "New server registered.\n\n");
  std::string state = c.run("show servers state app");
  EXPECT_NE(state.find("\n1 app 3 n 127.0.0.1 2 1 1 1 "), std::string::npos) << state;
}

TEST(CliCommands, ShowServersStateAndStatFilters) {
  Cli c;
  std::string s = c.run("show servers state st");
  EXPECT_EQ(s.rfind("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state ", 0), 0U);
  EXPECT_NE(s.find("\n2 st 1 s 127.0.0.1 2 0 1 1 "), std::string::npos) << s;
  EXPECT_EQ(s.substr(s.size() - 2), "\n\n");
  EXPECT_EQ(c.run("show servers state nope"), "Can't find backend.\n\n");
  std::string only_be = c.run("show stat -1 2 -1");
  EXPECT_NE(only_be.find("\napp,BACKEND,"), std::string::npos);
  EXPECT_EQ(only_be.find("\napp,a,"), std::string::npos);
  EXPECT_EQ(only_be.find("\napp,FRONTEND,"), std::string::npos);
  std::string one = c.run("show stat app 4 2");
  EXPECT_NE(one.find("\napp,b,"), std::string::npos);
  EXPECT_EQ(one.find("\napp,a,"), std::string::npos);
  EXPECT_EQ(c.run("show stat typed 1 -1 -1"), "No such proxy.\n\n");
  EXPECT_EQ(c.run("show stat 1 4 1 typed").rfind("S.1.1.0.pxname.1:KNS:str:app\n", 0), 0U);
  EXPECT_EQ(c.run("show stat 1 4 1 json").rfind("[[{\"objType\":\"Server\"", 0), 0U);
}

}  // namespace
}  // namespace sluice::runtime
