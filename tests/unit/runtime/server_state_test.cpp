#include "runtime/server_state.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include "../stats/fixture.h"
#include "runtime/cli.h"

namespace sluice::runtime {
namespace {

// A line as haproxy 2.6 writes it (25 fields).
constexpr const char* kLine = "3 app 1 a 127.0.0.1 2 8 10 1 12 6 3 4 6 0 0 0 - 81 - 0 0 - - 0";

TEST(ServerStateParse, Haproxy26Line) {
  auto l = parse_server_state_line(kLine);
  ASSERT_TRUE(l) << l.error();
  EXPECT_EQ(l->be_id, 3);
  EXPECT_EQ(l->be_name, "app");
  EXPECT_EQ(l->srv_id, 1);
  EXPECT_EQ(l->srv_name, "a");
  EXPECT_EQ(l->srv_addr, "127.0.0.1");
  EXPECT_EQ(l->op_state, 2);
  EXPECT_EQ(l->admin_state, kStateForcedDrain);
  EXPECT_EQ(l->uweight, 10U);
  EXPECT_EQ(l->iweight, 1U);
  EXPECT_EQ(l->since_last_change, 12);
  EXPECT_EQ(l->check_health, 4U);
  EXPECT_EQ(l->fqdn, "-");
  EXPECT_EQ(l->port, 81);
  EXPECT_FALSE(l->bk_forced_id);
}

TEST(ServerStateParse, OlderLineWithNineteenFields) {
  EXPECT_TRUE(parse_server_state_line("1 b 1 s 10.0.0.1 0 1 1 1 5 8 2 0 6 0 0 0 - 80"));
}

TEST(ServerStateParse, MalformedLinesAreErrors) {
  EXPECT_FALSE(parse_server_state_line(""));
  EXPECT_FALSE(parse_server_state_line("3 app 1 a 127.0.0.1 2"));    // too few
  EXPECT_FALSE(parse_server_state_line(std::string(kLine) + " 1"));  // too many
  EXPECT_FALSE(parse_server_state_line("x app 1 a 127.0.0.1 2 8 10 1 12 6 3 4 6 0 0 0 - 81"));
  EXPECT_FALSE(parse_server_state_line("3 app 1 a 127.0.0.1 9 8 10 1 12 6 3 4 6 0 0 0 - 81"));
  EXPECT_FALSE(parse_server_state_line("3 app 1 a 127.0.0.1 2 8 999 1 12 6 3 4 6 0 0 0 - 81"));
  EXPECT_FALSE(parse_server_state_line("3 app 1 a 127.0.0.1 2 8 10 1 12 6 3 4 6 0 0 0 - 99999"));
  EXPECT_FALSE(parse_server_state_line("3 app 1 a 127.0.0.1 2 8 1x 1 12 6 3 4 6 0 0 0 - 81"));
}

TEST(ServerStateParse, FileSkipsCommentsAndBlankLines) {
  std::string text = "1\n# be_id be_name ...\n" + std::string(kLine) + "\n\n" +
                     "3 app 2 b 127.0.0.1 0 1 1 1 5 8 2 0 6 0 0 0 - 82\n\n";
  ServerStateFile f = parse_server_state_file(text, "s.state");
  ASSERT_EQ(f.lines.size(), 2U);
  EXPECT_EQ(f.lines[1].srv_name, "b");
  EXPECT_TRUE(f.warnings.empty());
}

TEST(ServerStateParse, ACorruptedLineIgnoresTheWholeFile) {
  std::string text = "1\n" + std::string(kLine) + "\ngarbage here\n" +
                     "3 app 2 b 127.0.0.1 0 1 1 1 5 8 2 0 6 0 0 0 - 82\n";
  ServerStateFile f = parse_server_state_file(text, "s.state");
  EXPECT_TRUE(f.lines.empty());
  ASSERT_EQ(f.warnings.size(), 1U);
  EXPECT_NE(f.warnings[0].find("s.state:3: corrupted server state file"), std::string::npos)
      << f.warnings[0];
}

TEST(ServerStateParse, UnknownVersionIgnoresTheFile) {
  ServerStateFile f = parse_server_state_file("2\n" + std::string(kLine) + "\n", "s");
  EXPECT_TRUE(f.lines.empty());
  ASSERT_EQ(f.warnings.size(), 1U);
  EXPECT_NE(f.warnings[0].find("version"), std::string::npos);
}

constexpr const char* kConfig =
    "global\n  server-state-base /nonexistent\n  server-state-file /tmp/x.state\n"
    "defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n"
    "  load-server-state-from-file global\n"
    "listen app\n  bind 127.0.0.1:1\n  server a 127.0.0.1:81\n  server b 127.0.0.1:82\n"
    "  server c 127.0.0.1:83 weight 5\n  server d 127.0.0.1:84 check\n"
    "  server e 127.0.0.1:85 check\n"
    "backend loc\n  load-server-state-from-file local\n  server-state-file-name loc.st\n"
    "  server s 127.0.0.1:86\n"
    "backend off\n  load-server-state-from-file none\n  server s 127.0.0.1:87\n";

proxy::Server& server(testing::Objects& o, std::size_t be, std::size_t i) {
  return *o.backends[be]->servers()[i];
}

TEST(ServerStateApply, RestoresAdminWeightStateAndAddress) {
  testing::Objects o{kConfig};
  auto& be = *o.backends[0];
  // What the old process saw: a maint, b drain and weight 10, c weight
  // changed in the configuration since, d DOWN, e UP, a moved by set server addr.
  ServerStateFile f = parse_server_state_file(
      "1\n"
      "1 app 1 a 10.1.2.3 2 1 1 1 0 0 0 0 0 0 0 0 - 9000\n"
      "1 app 2 b 127.0.0.1 2 8 10 1 0 0 0 0 0 0 0 0 - 82\n"
      "1 app 3 c 127.0.0.1 2 0 50 1 0 0 0 0 0 0 0 0 - 83\n"
      "1 app 4 d 127.0.0.1 0 0 1 1 30 8 2 0 6 0 0 0 - 84\n"
      "1 app 5 e 127.0.0.1 2 0 1 1 30 15 3 3 6 0 0 0 - 85\n",
      "f");
  ASSERT_TRUE(f.warnings.empty());
  std::vector<std::string> warnings;
  const std::int64_t now = 1000000;
  for (std::size_t i = 0; i < f.lines.size(); ++i)
    apply_server_state(be, server(o, 0, i), f.lines[i], now, warnings);
  EXPECT_TRUE(server(o, 0, 0).maint());
  EXPECT_EQ(server(o, 0, 0).addr().port(), 9000);
  std::string line = server_state_line(be, server(o, 0, 0), now);
  EXPECT_NE(line.find(" 10.1.2.3 "), std::string::npos) << line;
  EXPECT_TRUE(server(o, 0, 1).admin() & proxy::kAdminDrain);
  EXPECT_FALSE(server(o, 0, 1).maint());
  EXPECT_EQ(server(o, 0, 1).uweight(), 10U);
  EXPECT_EQ(server(o, 0, 2).uweight(), 5U);  // iweight 1 in the file, 5 now: config wins
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find("app/c"), std::string::npos);
  EXPECT_FALSE(server(o, 0, 3).up());
  EXPECT_EQ(server(o, 0, 3).check().health.load(), 0U);
  EXPECT_EQ(server(o, 0, 3).check().last_change_s.load(), now - 30);
  EXPECT_TRUE(server(o, 0, 4).up());
}

TEST(ServerStateApply, ServerWithoutCheckIsNeverRestoredDown) {
  testing::Objects o{kConfig};
  std::vector<std::string> warnings;
  auto l = parse_server_state_line("1 app 1 a 127.0.0.1 0 0 1 1 0 0 0 0 0 0 0 0 - 81");
  ASSERT_TRUE(l);
  apply_server_state(*o.backends[0], server(o, 0, 0), *l, 1, warnings);
  EXPECT_TRUE(server(o, 0, 0).up());
}

TEST(ServerStateApply, MaintFromARemovedDisabledIsNotRestored) {
  testing::Objects o{kConfig};
  std::vector<std::string> warnings;
  auto l = parse_server_state_line("1 app 1 a 127.0.0.1 0 5 1 1 0 0 0 0 0 0 0 0 - 81");
  ASSERT_TRUE(l);
  apply_server_state(*o.backends[0], server(o, 0, 0), *l, 1, warnings);
  EXPECT_FALSE(server(o, 0, 0).maint());
  // And `disabled` is written as haproxy writes it: 5 (forced + config).
  testing::Objects d{std::string(kConfig).replace(std::string(kConfig).find("127.0.0.1:81"), 12,
                                                  "127.0.0.1:81 disabled")};
  std::string line = server_state_line(*d.backends[0], server(d, 0, 0), 1);
  EXPECT_NE(line.find(" a 127.0.0.1 2 5 "), std::string::npos) << line;
}

TEST(ServerStateApply, ForcedIdMismatchSkipsTheLine) {
  testing::Objects o{kConfig};
  std::vector<std::string> warnings;
  auto l = parse_server_state_line("1 app 7 a 127.0.0.1 2 1 1 1 0 0 0 0 0 0 0 1 - 81");
  ASSERT_TRUE(l);
  apply_server_state(*o.backends[0], server(o, 0, 0), *l, 1, warnings);
  EXPECT_FALSE(server(o, 0, 0).maint());
  ASSERT_EQ(warnings.size(), 1U);
}

TEST(ServerStatePaths, GlobalLocalNoneAndBase) {
  testing::Objects o{kConfig};
  const auto& g = o.model.global;
  EXPECT_EQ(server_state_path(g, o.backends[0]->def()), "/tmp/x.state");  // absolute
  EXPECT_EQ(server_state_path(g, o.backends[1]->def()), "/nonexistent/loc.st");
  EXPECT_EQ(server_state_path(g, o.backends[2]->def()), "");
}

TEST(ServerStateLoad, FileRoundTripAndMissingFileWarns) {
  char tmpl[] = "/tmp/sluice-state-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::string path = tmpl;
  std::string cfg = kConfig;
  cfg.replace(cfg.find("/tmp/x.state"), 12, path);
  testing::Objects before{cfg};
  // The old process: runtime changes, then `show servers state` into the file.
  before.backends[0]->set_server_maint(server(before, 0, 0), true);
  before.backends[0]->set_server_drain(server(before, 0, 1), true);
  before.backends[0]->set_server_uweight(server(before, 0, 2), 2);
  {
    std::ofstream out(path);
    out << "1\n# header\n";
    for (std::size_t i = 0; i < 5; ++i)
      out << server_state_line(*before.backends[0], server(before, 0, i), std::time(nullptr))
          << "\n";
  }
  testing::Objects after{cfg};
  std::vector<proxy::Backend*> bes;
  for (auto& b : after.backends) bes.push_back(b.get());
  std::vector<std::string> w = load_server_states(after.model.global, bes);
  EXPECT_TRUE(server(after, 0, 0).maint());
  EXPECT_TRUE(server(after, 0, 1).admin() & proxy::kAdminDrain);
  EXPECT_EQ(server(after, 0, 2).uweight(), 2U);
  EXPECT_TRUE(server(after, 0, 3).up());
  EXPECT_FALSE(server(after, 2, 0).maint());
  // The local file of 'loc' does not exist.
  ASSERT_EQ(w.size(), 1U);
  EXPECT_NE(w[0].find("Can't open server state file '/nonexistent/loc.st'"), std::string::npos)
      << w[0];
  std::remove(path.c_str());
}

}  // namespace
}  // namespace sluice::runtime
