#include "stats/offload.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

namespace sluice::stats {
namespace {

using std::chrono::milliseconds;

// Counts live copies, to check that every capture of a job is freed.
struct Tracked {
  std::shared_ptr<std::atomic<int>> live;
  explicit Tracked(std::shared_ptr<std::atomic<int>> l) : live(std::move(l)) { ++*live; }
  Tracked(const Tracked& o) : live(o.live) { ++*live; }
  Tracked& operator=(const Tracked&) = delete;
  ~Tracked() { --*live; }
};

// Runs `loop` until stop() or `limit`.
void run_for(core::Loop& loop, milliseconds limit) {
  core::Timer end([&] { loop.stop(); });
  loop.arm(end, limit);
  loop.run();
}

TEST(Offload, JobRunsOffThreadAnswerOnLoop) {
  core::Loop loop;
  Offload off;
  const auto me = std::this_thread::get_id();
  std::thread::id job_thread, done_thread;
  std::string answer;
  OffloadTicket t = off.submit_for(
      loop,
      [&] {
        job_thread = std::this_thread::get_id();
        return std::string(100000, 'x');
      },
      [&](std::string s) {
        done_thread = std::this_thread::get_id();
        answer = std::move(s);
        loop.stop();
      });
  EXPECT_TRUE(t.pending());
  run_for(loop, milliseconds(5000));
  EXPECT_NE(job_thread, me);
  EXPECT_EQ(done_thread, me);
  EXPECT_EQ(answer.size(), 100000U);
  off.drain();  // the job is counted after its answer is posted
  EXPECT_EQ(off.jobs_run(), 1U);
}

TEST(Offload, JobsRunInOrderOnOneThread) {
  core::Loop loop;
  Offload off;
  std::vector<int> order;
  std::thread::id first, second;
  OffloadTicket a = off.submit_for(
      loop, [&] { return (first = std::this_thread::get_id(), 1); },
      [&](int v) { order.push_back(v); });
  OffloadTicket b = off.submit_for(
      loop, [&] { return (second = std::this_thread::get_id(), 2); },
      [&](int v) {
        order.push_back(v);
        loop.stop();
      });
  run_for(loop, milliseconds(5000));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(first, second);
}

// The requester goes away while its job runs: no answer, nothing leaks
// (ASan: the answer and both closures' captures are freed).
TEST(Offload, CancelledWhileRunningGetsNothing) {
  core::Loop loop;
  Offload off;
  auto live = std::make_shared<std::atomic<int>>(0);
  std::promise<void> started, release;
  std::shared_future<void> go = release.get_future().share();
  bool called = false;
  {
    Tracked in_job(live), in_done(live);
    OffloadTicket t = off.submit_for(
        loop,
        [&started, go, in_job] {
          started.set_value();
          go.wait();
          return std::string(1 << 20, 'y');
        },
        [&called, in_done](std::string) { called = true; });
    started.get_future().wait();
    t.cancel();
    EXPECT_FALSE(t.pending());
  }
  release.set_value();
  off.drain();
  run_for(loop, milliseconds(50));
  EXPECT_FALSE(called);
  EXPECT_EQ(live->load(), 0);
}

// A ticket dropped before its job started: the job never runs.
TEST(Offload, DroppedBeforeStartNeverRuns) {
  core::Loop loop;
  Offload off;
  std::promise<void> started, release;
  std::shared_future<void> go = release.get_future().share();
  bool second_ran = false, called = false;
  OffloadTicket first = off.submit_for(
      loop,
      [&started, go] {
        started.set_value();
        go.wait();
        return 1;
      },
      [&](int) { called = true; });
  started.get_future().wait();
  {
    OffloadTicket dropped = off.submit_for(
        loop, [&] { return (second_ran = true); }, [](bool) {});
  }
  release.set_value();
  off.drain();
  run_for(loop, milliseconds(50));
  EXPECT_TRUE(called);
  EXPECT_FALSE(second_ran);
  EXPECT_EQ(off.jobs_run(), 1U);
}

// Cancelled after the answer was posted but before the loop ran it; then the
// loop ends with the answer still in its mailbox: freed, never delivered.
TEST(Offload, CancelledAfterPostAndLoopGone) {
  auto live = std::make_shared<std::atomic<int>>(0);
  Offload off;
  bool called = false;
  {
    core::Loop loop;
    Tracked in_done(live);
    OffloadTicket t = off.submit_for(
        loop, [] { return std::string(1 << 16, 'z'); },
        [&called, in_done](std::string) { called = true; });
    off.drain();  // answered and posted
    t.cancel();
    run_for(loop, milliseconds(20));
    EXPECT_FALSE(called);
    OffloadTicket u = off.submit_for(
        loop, [] { return std::string(1 << 16, 'w'); },
        [&called, in_done](std::string) { called = true; });
    off.drain();
    u.cancel();  // the posted answer stays in the mailbox as the loop ends
  }
  EXPECT_FALSE(called);
  EXPECT_EQ(live->load(), 0);
}

// A job that throws: no answer (the requester's own timeout ends its wait),
// and the thread goes on with the next job.
TEST(Offload, ThrowingJobGivesNoAnswer) {
  core::Loop loop;
  Offload off;
  bool bad_called = false;
  int good = 0;
  OffloadTicket a = off.submit_for(
      loop, []() -> int { throw std::runtime_error("no"); }, [&](int) { bad_called = true; });
  OffloadTicket b = off.submit_for(
      loop, [] { return 7; },
      [&](int v) {
        good = v;
        loop.stop();
      });
  run_for(loop, milliseconds(5000));
  EXPECT_FALSE(bad_called);
  EXPECT_EQ(good, 7);
}

}  // namespace
}  // namespace sluice::stats

namespace sluice::stats {
namespace {

// dispose(): the string is freed on the stats thread; no answer, no job counted.
TEST(Offload, DisposeFreesThere) {
  Offload off;
  off.dispose(std::string(1 << 22, 'd'));
  off.drain();
  EXPECT_EQ(off.jobs_run(), 0U);
}

// release(): a large answer goes back to the stats thread, where the next
// job writes into the same memory; small ones stay with their owner.
TEST(Offload, ReleasedAnswerIsReusedByTheNextJob) {
  core::Loop loop;
  Offload off;
  std::string sent(3 << 20, 'a');  // an answer the loop has sent
  const char* memory = sent.data();
  off.release(sent);
  EXPECT_TRUE(sent.empty());
  std::string small(1000, 's');
  off.release(small);
  EXPECT_TRUE(small.empty());
  EXPECT_GE(small.capacity(), 1000U);
  std::size_t cap = 0;
  const char* reused = nullptr;
  OffloadTicket t = off.submit_for(
      loop,
      [&] {
        std::string s = off.take_spare();
        cap = s.capacity();
        reused = s.data();
        EXPECT_TRUE(s.empty());
        std::string none = off.take_spare();  // only one was released
        return none.capacity();
      },
      [&](std::size_t none_cap) {
        EXPECT_LT(none_cap, 1000U);
        loop.stop();
      });
  run_for(loop, milliseconds(5000));
  EXPECT_GE(cap, std::size_t{3} << 20);
  EXPECT_EQ(reused, memory);
  off.drain();
  EXPECT_EQ(off.jobs_run(), 1U);  // the release is housekeeping, not a job
}

}  // namespace
}  // namespace sluice::stats
