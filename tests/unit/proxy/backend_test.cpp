#include "proxy/backend.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <vector>

#include "proxy/balancer.h"
#include "proxy/termination.h"

namespace sluice::proxy {
namespace {

config::ServerDef srv(const std::string& name, int id, bool backup = false) {
  config::ServerDef s;
  s.name = name;
  s.id = id;
  s.backup = backup;
  auto& in = reinterpret_cast<sockaddr_in&>(s.addr.storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<std::uint16_t>(8000 + id));
  s.addr.length = sizeof(sockaddr_in);
  return s;
}

std::vector<std::uint32_t> indexes(const std::vector<lb::Member>& m) {
  std::vector<std::uint32_t> out;
  for (const auto& x : m) out.push_back(x.index);
  return out;
}

struct Waiter final : QueueWaiter {
  std::vector<std::uint32_t> granted;
  void on_slot_granted(std::uint32_t t) override { granted.push_back(t); }
};

void drain(core::Loop& loop) {
  loop.post([&] { loop.stop(); });
  loop.run();
}

TEST(UsableMembers, ActiveThenFirstBackupThenAllBackups) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1), srv("b1", 3, true), srv("b0", 2, true)};
  Backend be(p, 0, nullptr);
  EXPECT_EQ(indexes(usable_members(be)), (std::vector<std::uint32_t>{0}));
  be.servers()[0]->set_up(false);
  EXPECT_EQ(indexes(usable_members(be)), (std::vector<std::uint32_t>{2}));  // lowest id
  p.allbackups = true;
  Backend all(p, 0, nullptr);
  all.servers()[0]->set_up(false);
  EXPECT_EQ(indexes(usable_members(all)), (std::vector<std::uint32_t>{1, 2}));
  all.servers()[1]->set_admin(kAdminMaint);
  EXPECT_EQ(indexes(usable_members(all)), (std::vector<std::uint32_t>{2}));
  all.servers()[2]->set_admin(kAdminDrain);
  EXPECT_TRUE(usable_members(all).empty());
}

TEST(Queue, OldestWaiterGetsTheFreedSlot) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("s", 1)};
  p.servers[0].maxconn = 1;
  Backend be(p, 0, nullptr);
  Server& s = *be.servers()[0];
  ASSERT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
  core::Loop loop;
  Waiter w;
  Pending p1, p2;
  EXPECT_EQ(be.enqueue(p1, nullptr, loop, w, 1, 0), Backend::Enqueued::Yes);
  EXPECT_EQ(be.enqueue(p2, nullptr, loop, w, 2, 0), Backend::Enqueued::Yes);
  EXPECT_EQ(p2.position, 2U);
  be.release(s);
  drain(loop);
  ASSERT_EQ(w.granted, (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(be.cancel(p1), &s);  // the slot is p1's now
  EXPECT_EQ(be.cancel(p2), nullptr);  // still waiting: removed
  EXPECT_EQ(be.queue().size(), 0U);
  EXPECT_EQ(s.connections(), 1U);
}

TEST(Queue, ServerQueueFirstAndMaxqueue) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("s", 1)};
  p.servers[0].maxconn = 1;
  p.servers[0].maxqueue = 1;
  Backend be(p, 0, nullptr);
  Server& s = *be.servers()[0];
  ASSERT_TRUE(s.try_acquire());
  core::Loop loop;
  Waiter w;
  Pending shared, own, extra;
  EXPECT_EQ(be.enqueue(shared, nullptr, loop, w, 1, 0), Backend::Enqueued::Yes);
  EXPECT_EQ(be.enqueue(own, &s, loop, w, 2, 0), Backend::Enqueued::Yes);
  EXPECT_EQ(be.enqueue(extra, &s, loop, w, 3, 0), Backend::Enqueued::QueueFull);
  be.release(s);
  drain(loop);
  EXPECT_EQ(w.granted, (std::vector<std::uint32_t>{2}));  // the server's own queue first
  EXPECT_EQ(be.cancel(own), &s);
  be.release(s);
  drain(loop);
  EXPECT_EQ(w.granted, (std::vector<std::uint32_t>{2, 1}));
  EXPECT_EQ(be.cancel(shared), &s);
}

TEST(Queue, DownServerRequeuesItsWaiters) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1), srv("b", 2)};
  p.servers[0].maxconn = 1;
  p.servers[1].maxconn = 1;
  Backend be(p, 0, nullptr);
  Server& a = *be.servers()[0];
  Server& b = *be.servers()[1];
  ASSERT_TRUE(a.try_acquire());
  ASSERT_TRUE(b.try_acquire());
  core::Loop loop;
  Waiter w;
  Pending pa;
  EXPECT_EQ(be.enqueue(pa, &a, loop, w, 7, 0), Backend::Enqueued::Yes);
  be.set_server_down(a, nullptr);
  EXPECT_EQ(a.queue().size(), 0U);
  EXPECT_EQ(be.queue().size(), 1U);
  be.release(b);
  drain(loop);
  EXPECT_EQ(w.granted, (std::vector<std::uint32_t>{7}));
  EXPECT_EQ(be.cancel(pa), &b);
}

TEST(StateMessages, MatchHaproxyWording) {
  config::Proxy p;
  p.name = "li";
  p.cap = config::ProxyCap::Listen;
  p.servers = {srv("s1", 1), srv("b1", 2, true)};
  Backend be(p, 0, nullptr);
  checks::CheckResult r;
  r.status = checks::CheckStatus::L4Con;
  r.info = "Connection refused";
  be.servers()[0]->set_up(false);
  EXPECT_EQ(be.down_message(*be.servers()[0], &r, 0),
            "Server li/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection "
            "refused\", check duration: 0ms. 0 active and 1 backup servers left. Running on "
            "backup. 0 sessions active, 0 requeued, 0 remaining in queue.");
  be.servers()[1]->set_up(false);
  EXPECT_EQ(be.down_message(*be.servers()[1], &r, 0),
            "Backup Server li/b1 is DOWN, reason: Layer4 connection problem, info: \"Connection "
            "refused\", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions "
            "active, 0 requeued, 0 remaining in queue.");
  EXPECT_EQ(be.no_server_message(), "proxy li has no server available!");
  be.servers()[0]->set_up(true);
  r.status = checks::CheckStatus::L4Ok;
  r.info.clear();
  EXPECT_EQ(be.up_message(*be.servers()[0], &r, 0),
            "Server li/s1 is UP, reason: Layer4 check passed, check duration: 0ms. 1 active and 0 "
            "backup servers online. 0 sessions requeued, 0 total in queue.");
  config::Proxy q = p;
  q.cap = config::ProxyCap::Backend;
  q.name = "be";
  Backend be2(q, 0, nullptr);
  EXPECT_EQ(be2.no_server_message(), "backend be has no server available!");
}

TEST(StateChanges, BumpGenerationAndCounters) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("s", 1)};
  Backend be(p, 0, nullptr);
  auto g = be.generation();
  be.set_server_down(*be.servers()[0], nullptr);
  EXPECT_GT(be.generation(), g);
  EXPECT_EQ(be.servers()[0]->check().downs.load(), 1U);
  be.set_server_down(*be.servers()[0], nullptr);  // no change
  EXPECT_EQ(be.servers()[0]->check().downs.load(), 1U);
  be.set_server_up(*be.servers()[0], nullptr);
  EXPECT_TRUE(be.servers()[0]->up());
}

TEST(Balancer, PicksAcquiresAndReportsFullOrNone) {
  config::Proxy p;
  p.name = "be";
  p.servers = {srv("a", 1), srv("b", 2)};
  p.servers[0].maxconn = 1;
  p.servers[1].maxconn = 1;
  Backend be(p, 0, nullptr);
  ThreadBalancer tb(be);
  Server* s1 = nullptr;
  Server* s2 = nullptr;
  Server* s3 = nullptr;
  ASSERT_EQ(tb.pick({}, s1), ThreadBalancer::Outcome::Picked);
  ASSERT_EQ(tb.pick({}, s2), ThreadBalancer::Outcome::Picked);
  EXPECT_NE(s1, s2);
  EXPECT_EQ(tb.pick({}, s3), ThreadBalancer::Outcome::AllFull);
  be.set_server_down(*be.servers()[0], nullptr);
  be.set_server_down(*be.servers()[1], nullptr);
  EXPECT_EQ(tb.pick({}, s3), ThreadBalancer::Outcome::NoServer);
}

TEST(Termination, FirstEventWins) {
  Termination t;
  EXPECT_EQ(t.first(), '-');
  EXPECT_EQ(t.second(), '-');
  t.set(TermCause::ServerTimeout, TermPhase::Queue);
  t.set(TermCause::ClientAbort, TermPhase::Data);
  EXPECT_EQ(t.first(), 's');
  EXPECT_EQ(t.second(), 'Q');
}

}  // namespace
}  // namespace sluice::proxy
