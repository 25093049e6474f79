#include "checks/check_run.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "checks/matcher.h"

namespace sluice::checks {
namespace {

using namespace std::chrono_literals;

config::Address loopback(std::uint16_t port) {
  config::Address a;
  auto& in = reinterpret_cast<sockaddr_in&>(a.storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.length = sizeof(sockaddr_in);
  return a;
}

std::uint16_t port_of(int fd) {
  sockaddr_in in{};
  socklen_t len = sizeof in;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  return ntohs(in.sin_port);
}

struct Results {
  std::vector<CheckResult> results;
  std::vector<HealthChange> changes;
};

Results run_checks(std::uint16_t port, int count) {
  core::Loop loop;
  Results out;
  CheckConfig cfg;
  cfg.addr = loopback(port);
  cfg.inter = cfg.fastinter = cfg.downinter = 20ms;
  cfg.rise = 2;
  cfg.fall = 1;
  CheckRun run(loop, cfg, [&](const CheckResult& r, HealthChange ch, const Health&) {
    out.results.push_back(r);
    out.changes.push_back(ch);
    if (static_cast<int>(out.results.size()) == count) loop.stop();
  });
  run.start(0ms);
  core::Timer guard([&] { loop.stop(); });
  loop.arm(guard, 3000ms);
  loop.run();
  run.stop();
  return out;
}

TEST(CheckRun, ConnectSucceedsIsL4OK) {
  int l = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(0);
  ::bind(l, reinterpret_cast<sockaddr*>(&a.storage), a.length);
  ::listen(l, 16);
  Results r = run_checks(port_of(l), 2);
  ::close(l);
  ASSERT_EQ(r.results.size(), 2U);
  EXPECT_EQ(r.results[0].status, CheckStatus::L4Ok);
  EXPECT_EQ(r.changes[0], HealthChange::None);  // starts up
}

TEST(CheckRun, RefusedIsL4CONWithInfo) {
  int l = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(0);
  ::bind(l, reinterpret_cast<sockaddr*>(&a.storage), a.length);
  std::uint16_t port = port_of(l);
  ::close(l);
  Results r = run_checks(port, 1);
  ASSERT_EQ(r.results.size(), 1U);
  EXPECT_EQ(r.results[0].status, CheckStatus::L4Con);
  EXPECT_EQ(r.results[0].info, "Connection refused");
  EXPECT_EQ(r.changes[0], HealthChange::WentDown);
}

TEST(CheckRun, TimeoutRules) {
  core::Loop loop;
  CheckConfig cfg;
  cfg.inter = 2000ms;
  cfg.timeout_connect = 500ms;
  {
    CheckRun run(loop, cfg, {});
    EXPECT_EQ(run.connect_timeout(), 2000ms);  // no "timeout check": inter
  }
  cfg.timeout_check = 100ms;
  CheckRun run(loop, cfg, {});
  EXPECT_EQ(run.connect_timeout(), 500ms);  // min(connect, inter)
}

TEST(CheckConfig, AddrPortAndSource) {
  config::ServerDef s;
  s.addr = loopback(80);
  s.check_port = 8080;
  auto be_ptr = std::make_unique<config::Proxy>();  // heap: GCC 12 false -Wmaybe-uninitialized on a
                                                    // big stack Proxy
  config::Proxy& be = *be_ptr;
  be.source = loopback(0);
  config::Global g;
  CheckConfig c = make_check_config(s, be, g);
  EXPECT_EQ(c.addr.port(), 8080);
  ASSERT_TRUE(c.source.has_value());
  s.fastinter = 100ms;
  c = make_check_config(s, be, g);
  EXPECT_EQ(c.fastinter, 100ms);
  EXPECT_EQ(c.downinter, s.inter);
}

TEST(CheckConfig, RuntimeOverridesComeBeforeTheConfiguration) {
  config::ServerDef s;
  s.addr = loopback(80);
  // No check-addr, no check-port: the server's current address and port.
  EXPECT_EQ(health_check_address(s, loopback(81), {}).port(), 81);
  s.check_port = 8080;
  EXPECT_EQ(health_check_address(s, loopback(81), {}).port(), 8080);
  CheckOverrides o;
  o.addr = loopback(0);
  reinterpret_cast<sockaddr_in&>(o.addr->storage).sin_addr.s_addr = htonl(0x7f000009);
  config::Address a = health_check_address(s, loopback(81), o);
  EXPECT_EQ(ntohl(reinterpret_cast<const sockaddr_in&>(a.storage).sin_addr.s_addr), 0x7f000009U);
  EXPECT_EQ(a.port(), 8080);  // check-addr alone keeps the port
  o.port = 9090;
  EXPECT_EQ(health_check_address(s, loopback(81), o).port(), 9090);
  o.port = 0;  // haproxy: 0 is the server's port
  EXPECT_EQ(health_check_address(s, loopback(81), o).port(), 81);
  s.agent_port = 7000;
  EXPECT_EQ(agent_check_address(s, loopback(81), {}).port(), 7000);
  CheckOverrides ag;
  ag.port = 7001;
  EXPECT_EQ(agent_check_address(s, loopback(81), ag).port(), 7001);
}

// A retarget takes effect from the next check: the first checks hit a
// closed port (L4CON), the ones after retarget() the listening one.
TEST(CheckRun, RetargetMovesTheNextChecks) {
  int l = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(0);
  ::bind(l, reinterpret_cast<sockaddr*>(&a.storage), a.length);
  ::listen(l, 16);
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  ::bind(c, reinterpret_cast<sockaddr*>(&a.storage), a.length);
  const std::uint16_t closed = port_of(c);
  ::close(c);
  core::Loop loop;
  CheckConfig cfg;
  cfg.addr = loopback(closed);
  cfg.inter = cfg.fastinter = cfg.downinter = 20ms;
  std::vector<CheckStatus> seen;
  CheckRun* self = nullptr;
  CheckRun run(loop, cfg, [&](const CheckResult& r, HealthChange, const Health&) {
    seen.push_back(r.status);
    if (seen.size() == 1) self->retarget(loopback(port_of(l)));
    if (seen.size() == 2) self->set_agent_send("hello\n");
    if (seen.size() == 3) loop.stop();
  });
  self = &run;
  run.start(0ms);
  core::Timer guard([&] { loop.stop(); });
  loop.arm(guard, 3000ms);
  loop.run();
  run.stop();
  ::close(l);
  ASSERT_EQ(seen.size(), 3U);
  EXPECT_EQ(seen[0], CheckStatus::L4Con);
  EXPECT_EQ(seen[1], CheckStatus::L4Ok);
  // agent-send: a send step is added when the next check starts.
  ASSERT_EQ(run.config().steps.size(), 2U);
  EXPECT_EQ(run.config().steps[1].kind, CheckStep::Kind::Send);
  EXPECT_EQ(run.config().steps[1].data, "hello\n");
}

// A request larger than the socket buffers stalls its send: the check waits
// for the write edge (a connected check socket is first registered for reads
// only), finishes the request, then waits for an answer that comes late.
TEST(CheckRun, StalledSendResumesAndLateAnswerIsRead) {
  int l = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(0);
  ::bind(l, reinterpret_cast<sockaddr*>(&a.storage), a.length);
  ::listen(l, 16);
  const std::size_t big = 32U << 20;
  std::atomic<std::size_t> got{0};
  std::thread server([&] {
    int c = ::accept(l, nullptr, nullptr);
    if (c < 0) return;
    std::this_thread::sleep_for(100ms);  // the client's buffers fill meanwhile
    std::vector<char> buf(1 << 16);
    for (int i = 0; i < 100000 && got < big; ++i) {
      ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    std::this_thread::sleep_for(100ms);  // the check waits for the answer
    (void)!::send(c, "OK\n", 3, MSG_NOSIGNAL);
    ::close(c);
  });
  core::Loop loop;
  CheckConfig cfg;
  cfg.addr = loopback(port_of(l));
  cfg.inter = cfg.fastinter = cfg.downinter = 5000ms;
  cfg.steps = {CheckStep::connect(false), CheckStep::send(std::string(big, 'x')),
               CheckStep::expect(make_string_matcher("OK", false, 2))};
  std::vector<CheckResult> seen;
  CheckRun run(loop, cfg, [&](const CheckResult& r, HealthChange, const Health&) {
    seen.push_back(r);
    loop.stop();
  });
  run.start(0ms);
  core::Timer guard([&] { loop.stop(); });
  loop.arm(guard, 8000ms);
  loop.run();
  run.stop();
  server.join();
  ::close(l);
  EXPECT_EQ(got.load(), big);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_TRUE(seen[0].passed()) << seen[0].info;
  EXPECT_GE(seen[0].duration_ms, 200);
}

}  // namespace
}  // namespace sluice::checks
