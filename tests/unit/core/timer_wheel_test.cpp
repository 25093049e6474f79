#include "core/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <vector>

namespace sluice::core {

namespace {

// A loop-less harness that arms and cancels the way Loop does.
class WheelHarness {
 public:
  explicit WheelHarness(std::int64_t now) : wheel_(now), now_(now) {}
  void arm(Timer& t, std::int64_t deadline) {
    if (armed_.count(&t)) wheel_.unlink(t);
    wheel_.schedule(t, deadline, ++seq_);
    armed_.insert(&t);
  }
  void cancel(Timer& t) {
    if (!armed_.erase(&t)) return;
    wheel_.unlink(t);
  }
  // Advance to `now` and return what fired, in order.
  std::vector<Timer*> advance(std::int64_t now) {
    now_ = now;
    wheel_.advance(now);
    std::vector<Timer*> fired;
    while (Timer* t = wheel_.pop_due()) {
      armed_.erase(t);
      fired.push_back(t);
    }
    return fired;
  }
  std::int64_t next() const { return wheel_.next_expiry(); }
  std::size_t armed() const { return armed_.size(); }

 private:
  TimerWheel wheel_;
  std::int64_t now_;
  std::uint64_t seq_ = 0;
  std::set<Timer*> armed_;
};

TEST(TimerWheel, FiresInDeadlineThenArmingOrder) {
  WheelHarness w(1000);
  Timer a, b, c, d;
  w.arm(a, 1030);
  w.arm(b, 1010);
  w.arm(c, 1020);
  w.arm(d, 1010);
  EXPECT_EQ(w.next(), 1010);
  EXPECT_TRUE(w.advance(1009).empty());
  auto fired = w.advance(1100);
  ASSERT_EQ(fired.size(), 4U);
  EXPECT_EQ(fired[0], &b);
  EXPECT_EQ(fired[1], &d);
  EXPECT_EQ(fired[2], &c);
  EXPECT_EQ(fired[3], &a);
  EXPECT_EQ(w.next(), -1);
}

TEST(TimerWheel, CancelAndRearm) {
  WheelHarness w(0);
  Timer a, b;
  w.arm(a, 50);
  w.arm(b, 60);
  w.cancel(a);
  w.arm(b, 10);  // re-arm earlier
  EXPECT_EQ(w.next(), 10);
  auto fired = w.advance(100);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0], &b);
}

TEST(TimerWheel, PastDeadlineFiresOnNextAdvance) {
  WheelHarness w(500);
  Timer a;
  w.arm(a, 100);
  EXPECT_EQ(w.next(), 501);
  EXPECT_EQ(w.advance(501).size(), 1U);
}

TEST(TimerWheel, FarDeadlinesCascadeAndFireOnTime) {
  WheelHarness w(123);
  Timer day, year;
  const std::int64_t kDay = 86'400'000;
  w.arm(day, 123 + kDay);
  w.arm(year, 123 + 365 * kDay);
  // Walk time forward by following next(): never fires early.
  std::int64_t now = 123;
  std::vector<Timer*> fired;
  int wakeups = 0;
  while (fired.size() < 2) {
    const std::int64_t n = w.next();
    ASSERT_GT(n, now);
    now = n;
    ++wakeups;
    for (Timer* t : w.advance(now)) {
      EXPECT_EQ(t->deadline_ms(), now);  // exactly on time when following next()
      fired.push_back(t);
    }
  }
  EXPECT_EQ(fired[0], &day);
  EXPECT_EQ(fired[1], &year);
  // Cascading costs a handful of wake-ups per level, not one per slot.
  EXPECT_LT(wakeups, 40);
}

TEST(TimerWheel, ManyRandomTimersNeverEarlyNeverLate) {
  std::mt19937_64 rng(42);
  const std::int64_t start = 1'000'000;
  WheelHarness w(start);
  const int kTimers = 20000;
  std::vector<std::unique_ptr<Timer>> timers;
  std::vector<std::int64_t> deadline(kTimers);
  std::vector<bool> live(kTimers, true);
  for (int i = 0; i < kTimers; ++i) {
    timers.push_back(std::make_unique<Timer>());
    // Mix of near (ms), medium (seconds) and far (hours) deadlines.
    const std::int64_t span = i % 3 == 0 ? 100 : i % 3 == 1 ? 60'000 : 20'000'000;
    deadline[i] = start + 1 + static_cast<std::int64_t>(rng() % span);
    w.arm(*timers[i], deadline[i]);
  }
  // Cancel a tenth, re-arm another tenth.
  for (int i = 0; i < kTimers; i += 10) {
    w.cancel(*timers[i]);
    live[i] = false;
  }
  for (int i = 5; i < kTimers; i += 10) {
    deadline[i] += 777;
    w.arm(*timers[i], deadline[i]);
  }
  std::int64_t now = start;
  std::size_t count = 0;
  std::int64_t last_deadline = 0;
  while (w.armed() > 0) {
    const std::int64_t next = w.next();
    ASSERT_GT(next, now);
    // Jump irregularly: sometimes exactly to next, sometimes past it.
    now = next + static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % 5000 : 0);
    last_deadline = 0;
    for (Timer* t : w.advance(now)) {
      const auto idx = static_cast<std::size_t>(
          std::find_if(timers.begin(), timers.end(), [t](auto& p) { return p.get() == t; }) -
          timers.begin());
      ASSERT_LT(idx, timers.size());
      ASSERT_TRUE(live[idx]);
      EXPECT_LE(deadline[idx], now);  // never early
      EXPECT_GE(deadline[idx], last_deadline);  // ordered within a batch
      last_deadline = deadline[idx];
      live[idx] = false;
      ++count;
    }
    // Never late: nothing still armed is past due.
    if (count % 512 == 0) {
      for (int i = 0; i < kTimers; ++i) {
        if (live[i]) {
          ASSERT_GT(deadline[i], now) << i;
        }
      }
    }
  }
  EXPECT_EQ(count, static_cast<std::size_t>(kTimers - kTimers / 10));
}

}  // namespace
}  // namespace sluice::core
