#include "core/loop.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/workers.h"

namespace sluice::core {
namespace {

using std::chrono::milliseconds;

TEST(Loop, TimersFireInOrderThenStop) {
  Loop loop;
  std::vector<int> order;
  Timer a([&] { order.push_back(30); });
  Timer b([&] { order.push_back(10); });
  Timer c([&] { order.push_back(20); });
  Timer end([&] { loop.stop(); });
  const std::int64_t t0 = loop.now_ms();
  loop.arm(a, milliseconds(30));
  loop.arm(b, milliseconds(10));
  loop.arm(c, milliseconds(20));
  loop.arm(end, milliseconds(40));
  EXPECT_TRUE(a.armed());
  loop.run();
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
  EXPECT_FALSE(a.armed());
  EXPECT_GE(loop.now_ms() - t0, 40);
}

TEST(Loop, CancelRearmAndDestroyArmed) {
  Loop loop;
  int fired_a = 0, fired_b = 0;
  Timer a([&] { ++fired_a; });
  Timer b([&] { ++fired_b; });
  loop.arm(a, milliseconds(5));
  loop.cancel(a);
  EXPECT_FALSE(a.armed());
  loop.arm(b, milliseconds(500));
  loop.arm(b, milliseconds(5));  // re-arm earlier: fires once
  {
    Timer gone([&] { ADD_FAILURE() << "destroyed timer fired"; });
    loop.arm(gone, milliseconds(1));
  }
  Timer end([&] { loop.stop(); });
  loop.arm(end, milliseconds(30));
  loop.run();
  EXPECT_EQ(fired_a, 0);
  EXPECT_EQ(fired_b, 1);
}

TEST(Loop, TimerCallbackCanRearmItselfAndCancelOthers) {
  Loop loop;
  int ticks = 0;
  Timer victim([&] { ADD_FAILURE() << "cancelled by a sibling"; });
  Timer tick;
  tick.set_callback([&] {
    if (++ticks == 3) {
      loop.stop();
      return;
    }
    loop.arm(tick, milliseconds(2));
  });
  Timer killer([&] { loop.cancel(victim); });
  loop.arm(killer, milliseconds(3));
  loop.arm(victim, milliseconds(3));  // same deadline, armed after: killer runs first
  loop.arm(tick, milliseconds(1));
  loop.run();
  EXPECT_EQ(ticks, 3);
}

TEST(Loop, PostFromOtherThreadsWakesTheLoop) {
  Loop loop;
  std::atomic<int> count{0};
  const int kThreads = 4, kPerThread = 1000;
  std::thread runner([&] { loop.run(); });
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        loop.post([&] {
          if (count.fetch_add(1) + 1 == kThreads * kPerThread) loop.stop();
        });
        if (i % 100 == 0) std::this_thread::sleep_for(milliseconds(1));
      }
    });
  }
  for (auto& p : posters) p.join();
  runner.join();
  EXPECT_EQ(count.load(), kThreads * kPerThread);
}

TEST(Loop, PostToSleepingLoopRunsPromptly) {
  Loop loop;
  std::thread runner([&] { loop.run(); });
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(milliseconds(2));  // let it reach epoll_wait
    std::atomic<bool> done{false};
    loop.post([&] { done = true; });
    for (int spin = 0; spin < 2000 && !done; ++spin) std::this_thread::sleep_for(milliseconds(1));
    ASSERT_TRUE(done) << "post " << i << " did not wake the loop";
  }
  loop.stop();
  runner.join();
}

TEST(Loop, StopFromOtherThreadAndBeforeRun) {
  Loop loop;
  std::thread runner([&] { loop.run(); });
  std::this_thread::sleep_for(milliseconds(5));
  loop.stop();
  runner.join();
  EXPECT_FALSE(loop.stopping());  // consumed by run()

  Loop early;
  early.stop();
  early.run();  // returns at once
  SUCCEED();
}

TEST(Loop, DeferRunsAfterTheBatchInOrder) {
  Loop loop;
  std::vector<std::string> log;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  int sv2[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv2), 0);
  struct H : IoHandler {
    std::vector<std::string>* log;
    Loop* loop;
    std::string name;
    void on_events(std::uint32_t) override {
      log->push_back(name);
      loop->defer([this] {
        log->push_back("defer-" + name);
        loop->defer([this] { log->push_back("nested-" + name); });
      });
    }
  };
  H h1, h2;
  h1.log = h2.log = &log;
  h1.loop = h2.loop = &loop;
  h1.name = "a";
  h2.name = "b";
  ASSERT_TRUE(loop.add(sv[0], &h1, EPOLLIN | EPOLLET));
  ASSERT_TRUE(loop.add(sv2[0], &h2, EPOLLIN | EPOLLET));
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  ASSERT_EQ(write(sv2[1], "x", 1), 1);
  Timer end([&] { loop.stop(); });
  loop.arm(end, milliseconds(20));
  loop.run();
  ASSERT_EQ(log.size(), 6U);
  // Both handlers of the batch run before any deferred callback.
  EXPECT_TRUE((log[0] == "a" && log[1] == "b") || (log[0] == "b" && log[1] == "a"));
  EXPECT_EQ(log[2], "defer-" + log[0]);
  EXPECT_EQ(log[3], "defer-" + log[1]);
  EXPECT_EQ(log[4], "nested-" + log[0]);
  EXPECT_EQ(log[5], "nested-" + log[1]);
  loop.remove(sv[0]);
  loop.remove(sv2[0]);
  for (int fd : {sv[0], sv[1], sv2[0], sv2[1]}) close(fd);
}

TEST(Loop, RemovedFdGetsNoStaleEventsInTheSameBatch) {
  Loop loop;
  int a[2], b[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
  int calls = 0;
  struct H : IoHandler {
    std::function<void()> fn;
    void on_events(std::uint32_t) override { fn(); }
  };
  H ha, hb;
  // Whichever runs first closes the other: the other must not be called.
  ha.fn = [&] { ++calls; loop.close_fd(b[0]); b[0] = -1; };
  hb.fn = [&] { ++calls; loop.close_fd(a[0]); a[0] = -1; };
  ASSERT_TRUE(loop.add(a[0], &ha));
  ASSERT_TRUE(loop.add(b[0], &hb));
  ASSERT_EQ(write(a[1], "x", 1), 1);
  ASSERT_EQ(write(b[1], "x", 1), 1);
  Timer end([&] { loop.stop(); });
  loop.arm(end, milliseconds(20));
  loop.run();
  EXPECT_EQ(calls, 1);
  for (int fd : {a[0], a[1], b[0], b[1]})
    if (fd >= 0) close(fd);
}

TEST(Loop, RequeueCallsTheHandlerAgainAfterTheBatch) {
  Loop loop;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  struct H : IoHandler {
    Loop* loop;
    int fd;
    int calls = 0;
    void on_events(std::uint32_t) override {
      if (++calls < 3) loop->requeue(fd, EPOLLIN);
      else loop->stop();
    }
  };
  H h;
  h.loop = &loop;
  h.fd = sv[0];
  ASSERT_TRUE(loop.add(sv[0], &h));
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  loop.run();
  EXPECT_EQ(h.calls, 3);
  loop.remove(sv[0]);
  close(sv[0]);
  close(sv[1]);
}

TEST(Workers, EachThreadRunsItsLoop) {
  Workers w(3);
  ASSERT_EQ(w.size(), 3U);
  std::atomic<int> inits{0};
  w.start([&](Loop& l) { inits += l.thread_index() + 1; });
  std::atomic<int> ran{0};
  for (unsigned i = 0; i < w.size(); ++i) w.loop(i).post([&] { ++ran; });
  for (int spin = 0; spin < 1000 && ran < 3; ++spin) std::this_thread::sleep_for(milliseconds(1));
  w.stop();
  w.join();
  EXPECT_EQ(ran.load(), 3);
  EXPECT_EQ(inits.load(), 1 + 2 + 3);
}

}  // namespace
}  // namespace sluice::core
