// Passive health (observe / error-limit / on-error) and the per-server
// session lists (on-marked-down, on-marked-up, shutdown sessions).

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <vector>

#include "core/loop.h"
#include "proxy/backend.h"
#include "proxy/server_checks.h"

namespace sluice::proxy {
namespace {

using Obs = config::ServerDef::Observe;
using OnErr = config::ServerDef::OnError;

config::ServerDef srv(const std::string& name, int id) {
  config::ServerDef s;
  s.name = name;
  s.id = id;
  s.weight = 1;
  auto& in = reinterpret_cast<sockaddr_in&>(s.addr.storage);
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in.sin_port = htons(9);  // never reached: the checks here never run
  s.addr.length = sizeof(sockaddr_in);
  return s;
}

struct Sink final : ObserveSink {
  std::vector<std::pair<Observed, unsigned>> calls;
  void on_observed_errors(Observed last, unsigned count) override {
    calls.emplace_back(last, count);
  }
};

TEST(Observe, Layer7CountsConsecutiveHttpErrors) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1)};
  p.servers[0].observe = Obs::Layer7;
  p.servers[0].error_limit = 3;
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  Sink sink;
  a.set_observe_sink(&sink);
  a.observe_http_status(500);
  a.observe_http_status(503);
  EXPECT_EQ(a.observed_errors(), 2U);
  a.observe(Observed::L4Ok);  // ignored by layer7: not a reset
  EXPECT_EQ(a.observed_errors(), 2U);
  a.observe_http_status(404);  // a valid answer resets
  EXPECT_EQ(a.observed_errors(), 0U);
  a.observe_http_status(501);  // 501 and 505 count as valid
  a.observe_http_status(505);
  EXPECT_EQ(a.observed_errors(), 0U);
  a.observe_http_status(500);
  a.observe(Observed::BrokenPipe);
  EXPECT_TRUE(sink.calls.empty());
  a.observe(Observed::L4Err);  // connect errors count in both modes
  ASSERT_EQ(sink.calls.size(), 1U);
  EXPECT_EQ(sink.calls[0].first, Observed::L4Err);
  EXPECT_EQ(sink.calls[0].second, 3U);
  EXPECT_EQ(a.observed_errors(), 0U);  // reset once acted upon
  EXPECT_EQ(a.hana_failures().load(), 1U);
  EXPECT_STREQ(observed_name(Observed::HttpSts), "Wrong http response");
  a.set_observe_sink(nullptr);
}

TEST(Observe, Layer4IgnoresHttpAndNoneIgnoresAll) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1), srv("b", 2)};
  p.servers[0].observe = Obs::Layer4;
  p.servers[0].error_limit = 2;
  p.servers[1].error_limit = 1;  // observe none
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  Server& b = *be.servers()[1];
  Sink sink;
  a.set_observe_sink(&sink);
  b.set_observe_sink(&sink);
  a.observe_http_status(500);
  a.observe(Observed::HttpRsp);
  EXPECT_EQ(a.observed_errors(), 0U);
  a.observe(Observed::L4Err);
  a.observe(Observed::L4Ok);
  EXPECT_EQ(a.observed_errors(), 0U);
  a.observe(Observed::L4Err);
  a.observe(Observed::L4Err);
  EXPECT_EQ(sink.calls.size(), 1U);
  b.observe(Observed::L4Err);
  b.observe_http_status(500);
  EXPECT_EQ(sink.calls.size(), 1U);
  EXPECT_EQ(b.observed_errors(), 0U);
}

// The on-error actions, applied on the check's thread.
struct Checked {
  config::Proxy p;
  config::Global g;
  core::Loop loop;
  std::unique_ptr<Backend> be;
  std::unique_ptr<ServerChecks> sc;

  Checked(OnErr mode, unsigned rise = 2, unsigned fall = 3) {
    p.name = "be";
    p.servers = {srv("a", 1), srv("b", 2)};
    auto& s = p.servers[0];
    s.check = true;
    s.rise = rise;
    s.fall = fall;
    s.inter = std::chrono::milliseconds(60000);
    s.fastinter = std::chrono::milliseconds(500);
    s.observe = Obs::Layer7;
    s.on_error = mode;
    be = std::make_unique<Backend>(p, 0, nullptr);
    sc = std::make_unique<ServerChecks>(loop, *be, server(), g);
    sc->start(std::chrono::milliseconds(60000));
    // A server starts at health == rise; one passed check makes it fully up.
    sc->health_check()->health().on_result(true);
  }
  Server& server() { return *be->servers()[0]; }
  const checks::CheckRun& run() { return *sc->health_check(); }
};

TEST(OnError, MarkDownTakesTheServerDownAtOnce) {
  Checked c(OnErr::MarkDown);
  Server& a = c.server();
  c.sc->apply_observed(Observed::HttpSts, 10);
  EXPECT_FALSE(a.up());
  EXPECT_EQ(a.check().status.load(), checks::CheckStatus::Hana);
  EXPECT_EQ(a.check().downs.load(), 1U);
  EXPECT_TRUE(c.run().fastinter_forced());
  EXPECT_EQ(c.run().next_interval(), std::chrono::milliseconds(2000 * 0 + 60000))
      << "down: downinter (unset: inter)";
  checks::CheckResult r;
  r.status = checks::CheckStatus::Hana;
  r.duration_ms = -1;
  r.info = "Detected 10 consecutive errors, last one was: Wrong http response";
  EXPECT_EQ(c.be->down_message(a, &r, 0),
            "Server be/a is DOWN, reason: Health analyze, info: \"Detected 10 consecutive "
            "errors, last one was: Wrong http response\". 1 active and 0 backup servers left. "
            "0 sessions active, 0 requeued, 0 remaining in queue.");
}

TEST(OnError, FailCheckCountsAsOneFailedCheck) {
  Checked c(OnErr::FailCheck, 2, 3);
  Server& a = c.server();
  c.sc->apply_observed(Observed::HttpSts, 10);
  c.sc->apply_observed(Observed::HttpSts, 10);
  EXPECT_TRUE(a.up());
  EXPECT_EQ(c.run().next_interval(), std::chrono::milliseconds(500));  // transitional
  c.sc->apply_observed(Observed::HttpSts, 10);
  EXPECT_FALSE(a.up());
  EXPECT_EQ(a.check().failures.load(), 3U);
}

TEST(OnError, SuddenDeathLeavesOneMoreFailure) {
  Checked c(OnErr::SuddenDeath, 2, 5);
  Server& a = c.server();
  c.sc->apply_observed(Observed::L4Err, 10);
  EXPECT_TRUE(a.up());
  EXPECT_EQ(c.run().health().health(), 2U);  // rise: one failure from down
  c.sc->apply_observed(Observed::L4Err, 10);
  EXPECT_FALSE(a.up());
}

TEST(OnError, FastinterOnlyChangesTheInterval) {
  Checked c(OnErr::FastInter);
  Server& a = c.server();
  EXPECT_EQ(c.run().next_interval(), std::chrono::milliseconds(60000));
  c.sc->apply_observed(Observed::HttpSts, 10);
  EXPECT_TRUE(a.up());
  EXPECT_EQ(c.run().health().health(), 4U);
  EXPECT_EQ(c.run().next_interval(), std::chrono::milliseconds(500));
}

// ---------------------------------------------------------------- session lists

struct Victim {
  proxy::ServerLink link{this, &Victim::shut};
  std::vector<TermCause> got;
  static void shut(void* self, TermCause c) {
    auto* v = static_cast<Victim*>(self);
    v->got.push_back(c);
    v->link.detach();
  }
};

void drain(core::Loop& loop) {
  loop.post([&loop] { loop.stop(); });
  loop.run();
}

TEST(ServerLinks, ShutdownReachesEverySessionOfTheServer) {
  core::Loop loop(0);
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1), srv("b", 2)};
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  Server& b = *be.servers()[1];
  Victim v1, v2, v3, other;
  v1.link.attach(a.links(), 0);  // no loops yet: nothing to join
  EXPECT_FALSE(v1.link.attached());
  for (auto& s : be.servers()) s->links().set_loops({&loop});
  v1.link.attach(a.links(), 0);
  v2.link.attach(a.links(), 0);
  v3.link.attach(a.links(), 0);
  other.link.attach(b.links(), 0);
  v2.link.detach();  // a session that ended
  EXPECT_EQ(a.links().list(0)->size, 2U);
  a.shutdown_sessions();
  EXPECT_TRUE(v1.got.empty());  // posted, not run yet
  drain(loop);
  EXPECT_EQ(v1.got, std::vector<TermCause>{TermCause::Killed});
  EXPECT_EQ(v3.got, std::vector<TermCause>{TermCause::Killed});
  EXPECT_TRUE(v2.got.empty());
  EXPECT_TRUE(other.got.empty());
  EXPECT_EQ(a.links().list(0)->size, 0U);
  EXPECT_EQ(b.links().list(0)->size, 1U);
}

TEST(ServerLinks, MarkedDownAndMarkedUpActions) {
  core::Loop loop(0);
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1), srv("b", 2), srv("bk", 3)};
  p.servers[0].shutdown_on_down = true;
  p.servers[1].shutdown_backups_on_up = true;
  p.servers[2].backup = true;
  Backend be(p, 0, nullptr);
  for (auto& s : be.servers()) s->links().set_loops({&loop});
  Server& a = *be.servers()[0];
  Server& b = *be.servers()[1];
  Server& bk = *be.servers()[2];
  Victim on_a, on_b, on_bk;
  on_a.link.attach(a.links(), 0);
  on_b.link.attach(b.links(), 0);
  on_bk.link.attach(bk.links(), 0);
  be.set_server_down(a, nullptr);
  be.set_server_down(b, nullptr);  // no on-marked-down: its session lives
  drain(loop);
  EXPECT_EQ(on_a.got, std::vector<TermCause>{TermCause::Down});
  EXPECT_TRUE(on_b.got.empty());
  be.set_server_up(a, nullptr);  // no on-marked-up on a
  drain(loop);
  EXPECT_TRUE(on_bk.got.empty());
  be.set_server_up(b, nullptr);
  drain(loop);
  EXPECT_EQ(on_bk.got, std::vector<TermCause>{TermCause::Up});
  EXPECT_TRUE(on_b.got.empty());
}

}  // namespace
}  // namespace sluice::proxy
