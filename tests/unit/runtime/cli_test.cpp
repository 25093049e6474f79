#include "runtime/cli.h"

#include <gtest/gtest.h>

#include <cstring>

#include "../stats/fixture.h"
#include "stats/snapshot.h"

namespace sluice::runtime {
namespace {

using V = std::vector<std::vector<std::string>>;

TEST(CliParse, CommandsAndWords) {
  EXPECT_EQ(split_commands("show stat"), (V{{"show", "stat"}}));
  EXPECT_EQ(split_commands("  show  backend ;show cli level"),
            (V{{"show", "backend"}, {"show", "cli", "level"}}));
  EXPECT_EQ(split_commands("set server a/b\\;c state\\ x"),
            (V{{"set", "server", "a/b;c", "state x"}}));
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
      env.proxies.push_back(
          {const_cast<proxy::Frontend*>(e.fe), const_cast<proxy::Backend*>(e.be)});
    st.level = CliLevel::Admin;
  }
  std::string run(const std::string& line) {
    std::string out;
    for (const auto& words : split_commands(line)) {
      CliReply r = run_command(env, st, words);
      out += r.text;
      if (r.async) r.async([&](std::string text) { out += text + "\n"; });  // as cli_server
      if (r.off_loop) out += r.off_loop();
    }
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
  EXPECT_EQ(c.run("frobnicate")
                .rfind("Unknown command. Please enter one of the following commands only:\n", 0),
            0U);
  std::string near = c.run("show nothing");
  EXPECT_EQ(
      near.rfind("Unknown command, but maybe one of the following ones is a better match:\n", 0),
      0U);
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
  EXPECT_EQ(c.run("set weight app/a 300"),
            "Absolute weight can only be between 0 and 256 inclusive.\n\n");
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

// Drain <-> maint never passes through ready: the backend's only server
// never becomes usable in between, so the backend never counts an UP/DOWN
// flap (its chkdown, a user-visible counter) and no generation sees it usable.
TEST(CliCommands, DrainToMaintNeverPassesThroughReady) {
  Cli c;
  proxy::Backend& st = *c.o.backends[1];
  proxy::Server& s = *st.servers()[0];
  EXPECT_EQ(c.run("set server st/s state drain"), "\n");
  EXPECT_FALSE(st.state_up());
  const auto downs = st.state_downs();
  EXPECT_EQ(c.run("set server st/s state maint"), "\n");
  EXPECT_TRUE(s.maint());
  EXPECT_EQ(s.admin() & proxy::kAdminDrain, 0);
  EXPECT_FALSE(st.state_up());
  EXPECT_EQ(st.state_downs(), downs);  // was: UP for an instant, then DOWN again
  EXPECT_EQ(c.run("set server st/s state drain"), "\n");
  EXPECT_FALSE(s.maint());
  EXPECT_NE(s.admin() & proxy::kAdminDrain, 0);
  EXPECT_EQ(st.state_downs(), downs);
  EXPECT_EQ(c.run("set server st/s state ready"), "\n");
  EXPECT_TRUE(st.state_up());
}

constexpr const char* kChecked =
    "defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
    "backend x\n  server c 127.0.0.1:81 check\n"
    "  server g 127.0.0.1:82 agent-check agent-port 9999\n  server n 127.0.0.1:83\n";

struct CheckedCli : Cli {
  testing::Objects x{kChecked};
  CheckedCli() {
    env.proxies.clear();
    for (const auto& e : x.entries)
      env.proxies.push_back(
          {const_cast<proxy::Frontend*>(e.fe), const_cast<proxy::Backend*>(e.be)});
  }
  proxy::Server& srv(int i) { return *x.backends[0]->servers()[static_cast<std::size_t>(i)]; }
  // Field `i` (0-based) of the server's `show servers state` line.
  std::string state_field(int i, int field) {
    std::string line = server_state_line(*x.backends[0], srv(i), 0);
    std::size_t at = 0;
    for (int f = 0; f < field; ++f) at = line.find(' ', at) + 1;
    return line.substr(at, line.find(' ', at) - at);
  }
};

TEST(CliCommands, SetServerHealthAndAgent) {
  CheckedCli c;
  proxy::Server &chk = c.srv(0), &ag = c.srv(1), &none = c.srv(2);
  EXPECT_EQ(c.run("set server x/c health"),
            "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n");
  EXPECT_EQ(c.run("set server x/g agent maybe"),
            "'set server <srv> agent' expects 'up' or 'down'.\n\n");
  EXPECT_EQ(c.run("set server x/g agent stopping"),
            "'set server <srv> agent' expects 'up' or 'down'.\n\n");
  EXPECT_EQ(c.run("set server x/c agent up"), "agent checks are not enabled on this server.\n\n");
  // As haproxy: health applies to a server without a health check too.
  EXPECT_EQ(c.run("set server x/n health down"), "\n");
  EXPECT_FALSE(none.up());
  EXPECT_EQ(stats::server_status(none), "DOWN");
  EXPECT_EQ(c.state_field(2, 12), "0");  // srv_check_health
  EXPECT_EQ(c.run("set server x/n health stopping"), "\n");
  EXPECT_TRUE(none.up());
  EXPECT_FALSE(none.usable());
  EXPECT_EQ(stats::server_status(none), "NOLB");
  EXPECT_EQ(c.state_field(2, 5), "3");  // srv_op_state STOPPING
  EXPECT_EQ(c.state_field(2, 12), "4");
  EXPECT_EQ(c.run("set server x/n health up"), "\n");
  EXPECT_TRUE(none.usable());
  EXPECT_EQ(stats::server_status(none), "no check");
  // A checked server: DOWN at once, and the check's verdict follows.
  EXPECT_EQ(c.run("set server x/c health down"), "\n");
  EXPECT_FALSE(chk.up());
  EXPECT_FALSE(chk.check_ok());
  EXPECT_EQ(c.run("set server x/c health up"), "\n");
  EXPECT_TRUE(chk.usable());
  EXPECT_TRUE(chk.check_ok());
  // The agent: down then up, whatever the health check says.
  EXPECT_EQ(c.run("set server x/g agent down"), "\n");
  EXPECT_FALSE(ag.up());
  EXPECT_FALSE(ag.agent_ok());
  EXPECT_EQ(c.run("set server x/g agent up"), "\n");
  EXPECT_TRUE(ag.usable());
  ag.agent_enabled().store(false);  // `disable agent`
  EXPECT_EQ(c.run("set server x/g agent down"), "agent checks are not enabled on this server.\n\n");
  EXPECT_TRUE(ag.up());
}

// Through the asynchronous path (the engine runs it on the check's thread):
// the answer is the same and the change is made before it.
TEST(CliCommands, SetServerHealthRunsWhereTheChecksRun) {
  CheckedCli c;
  int calls = 0;
  c.env.with_checks = [&](proxy::Server&, CliEnv::ChecksFn fn,
                          std::function<void(std::string)> done) {
    ++calls;
    std::string t = fn(nullptr);
    if (done) done(t);
  };
  EXPECT_EQ(c.run("set server x/c health down; set server x/c check-port 99"), "\n\n");
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(c.srv(0).up());
}

TEST(CliCommands, SetServerCheckAndAgentTargets) {
  CheckedCli c;
  EXPECT_EQ(c.run("set server x/n check-addr 127.0.0.2"),
            "health checks are not enabled on this server\n");
  EXPECT_EQ(c.run("set server x/n check-port 2"), "health checks are not enabled on this server\n");
  EXPECT_EQ(c.run("set server x/c agent-addr 127.0.0.2"),
            "agent checks are not enabled on this server\n");
  EXPECT_EQ(c.run("set server x/c agent-port 2"), "agent checks are not enabled on this server\n");
  EXPECT_EQ(c.run("set server x/c agent-send hi"),
            "agent checks are not enabled on this server.\n\n");
  EXPECT_EQ(c.run("set server x/c check-addr"),
            "set server <b>/<s> check-addr requires an address and optionally a port.\n\n");
  EXPECT_EQ(c.run("set server x/c check-port"),
            "set server <b>/<s> check-port requires a port.\n\n");
  EXPECT_EQ(c.run("set server x/g agent-addr"),
            "set server <b>/<s> agent-addr requires an address and optionally a port.\n\n");
  EXPECT_EQ(c.run("set server x/g agent-port"),
            "set server <b>/<s> agent-port requires a port.\n\n");
  EXPECT_EQ(c.run("set server x/c check-addr bad"), "invalid addr 'bad'\n");
  EXPECT_EQ(c.run("set server x/c check-addr 127.0.0.3 port"), "provided port is not an integer\n");
  EXPECT_EQ(c.run("set server x/c check-addr 127.0.0.3 port 70000"), "provided port is invalid\n");
  EXPECT_EQ(c.run("set server x/c check-port x"), "provided port is not an integer\n");
  EXPECT_EQ(c.run("set server x/c check-port 70000"), "provided port is invalid\n");
  // Nothing changed by the refused ones.
  EXPECT_EQ(c.state_field(0, 21) + " " + c.state_field(0, 22), "0 -");
  EXPECT_EQ(c.run("set server x/c check-addr 127.0.0.3 port 1234"), "\n");
  EXPECT_EQ(c.state_field(0, 21) + " " + c.state_field(0, 22), "1234 127.0.0.3");
  EXPECT_EQ(c.run("set server x/c check-addr ::1"), "\n");
  EXPECT_EQ(c.run("set server x/c check-port 4444"), "\n");
  EXPECT_EQ(c.state_field(0, 21) + " " + c.state_field(0, 22), "4444 ::1");
  EXPECT_EQ(c.run("set server x/g agent-addr localhost port 5555"), "\n");  // a host name resolves
  EXPECT_EQ(c.state_field(1, 23) + " " + c.state_field(1, 24), "127.0.0.1 5555");
  EXPECT_EQ(c.run("set server x/g agent-port 6666"), "\n");
  EXPECT_EQ(c.state_field(1, 24), "6666");
  EXPECT_EQ(c.run("set server x/g agent-send hello"), "\n");
  EXPECT_EQ(c.srv(1).agent_overrides().send, std::optional<std::string>("hello"));
  EXPECT_EQ(c.run("set server x/g agent-addr no.such.host.invalid"),
            "invalid addr 'no.such.host.invalid'\n");
  // No resolvers and no TLS: haproxy's answers for such a server.
  EXPECT_EQ(c.run("set server x/n fqdn"), "set server <b>/<s> fqdn requires a FQDN.\n\n");
  EXPECT_EQ(c.run("set server x/n fqdn a.example"),
            "set server <b>/<s> fqdn failed because no resolution is configured.\n\n");
  EXPECT_EQ(c.run("set server x/n ssl on"),
            "'set server <srv> ssl' cannot be set.  default-server should define ssl settings\n\n");
}

TEST(CliCommands, SetMaxconnGlobal) {
  Cli c;
  c.env.maxconn = c.env.hard_maxconn = 100;
  std::vector<unsigned> set;
  c.env.set_global_maxconn = [&](unsigned m) { set.push_back(m); };
  auto maxconn_lines = [&] {
    std::string info = c.run("show info"), out;
    for (const char* k : {"\nMaxconn: ", "\nHard_maxconn: "}) {
      auto at = info.find(k) + std::strlen(k);
      out += info.substr(at, info.find('\n', at) - at) + " ";
    }
    return out;
  };
  EXPECT_EQ(c.run("set maxconn global"), "Expects an integer value.\n\n");
  EXPECT_EQ(c.run("set maxconn global 101"), "Value out of range.\n\n");
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(c.run("set maxconn global 50"), "\n");
  EXPECT_EQ(maxconn_lines(), "50 100 ");
  EXPECT_EQ(c.run("set maxconn global 0"), "\n");  // back to the configured limit
  EXPECT_EQ(maxconn_lines(), "100 100 ");
  EXPECT_EQ(c.run("set maxconn global 5x; set maxconn global x"), "\n\n");  // atoi's reading
  EXPECT_EQ(set, (std::vector<unsigned>{50, 100, 5, 100}));
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
  EXPECT_EQ(c.run("add server app/n 127.0.0.1:99 weight 4 maxconn 8"),
            "New server registered.\n\n");
  proxy::Server* n = c.app().find_server("n");
  ASSERT_NE(n, nullptr);
  EXPECT_TRUE(n->maint());
  EXPECT_TRUE(n->dynamic());
  EXPECT_EQ(n->def().id, 3);
  EXPECT_EQ(n->uweight(), 4U);
  EXPECT_EQ(n->maxconn(), 8U);
  EXPECT_EQ(c.run("add server app/n 127.0.0.1:99"),
            "Already exists a server with the same name in backend.\n\n");
  EXPECT_EQ(c.run("add server app/m 127.0.0.1:99 bogus").rfind("unknown server keyword 'bogus'", 0),
            0U);
  EXPECT_EQ(c.run("add server app/m"),
            "'server' expects <name> and <addr>[:<port>] as arguments.\n\n");
  EXPECT_EQ(c.run("add server st/m 127.0.0.1:1"),
            "Backend must use a dynamic load balancing to support dynamic servers.\n");
  EXPECT_EQ(c.run("add server app/q \"127.0.0.1:1\""),
            "invalid character in '\"127.0.0.1:1\"'.\n\n");
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

namespace sluice::runtime {
namespace {

TEST(CliCommands, ShutdownSessionsUsesTheEngineHook) {
  testing::Objects o("listen app\n  bind 127.0.0.1:1\n  server a 127.0.0.1:81\n");
  CliEnv env;
  for (const auto& e : o.entries)
    env.proxies.push_back({const_cast<proxy::Frontend*>(e.fe), const_cast<proxy::Backend*>(e.be)});
  CliState st;
  st.level = CliLevel::Admin;
  std::vector<std::string> words{"shutdown", "sessions", "server", "app/a"};
  EXPECT_EQ(run_command(env, st, words).text,
            "'shutdown sessions server' is not implemented yet in Sluice.\n\n");
  const proxy::Server* got = nullptr;
  env.shutdown_sessions = [&](proxy::Server& s) { got = &s; };
  EXPECT_EQ(run_command(env, st, words).text, "\n");
  EXPECT_EQ(got, o.backends[0]->servers()[0].get());
  words.back() = "app/zz";
  EXPECT_EQ(run_command(env, st, words).text, "No such server.\n\n");
}

}  // namespace
}  // namespace sluice::runtime

namespace sluice::runtime {
namespace {

TEST(CliCommands, ShowStatUpAndNoMaint) {
  Cli c;
  EXPECT_EQ(c.run("disable server app/a"), "\n");
  std::string all = c.run("show stat");
  EXPECT_NE(all.find("\napp,a,"), std::string::npos);
  EXPECT_EQ(c.run("show stat no-maint").find("\napp,a,"), std::string::npos);
  EXPECT_EQ(c.run("show stat up").find("\napp,a,"), std::string::npos);
  EXPECT_NE(c.run("show stat up").find("\napp,b,"), std::string::npos);
  EXPECT_NE(c.run("show stat no-maint").find("\napp,BACKEND,"), std::string::npos);
}

}  // namespace
}  // namespace sluice::runtime
