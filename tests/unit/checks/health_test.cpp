#include "checks/health.h"

#include <gtest/gtest.h>

#include "checks/check_types.h"

namespace sluice::checks {
namespace {

using std::chrono::milliseconds;

TEST(Health, StartsUpAndFallsAtFirstFailure) {
  // HAProxy starts a checked server at health == rise: "up, but will fall
  // down at first failure".
  Health h(2, 3);
  EXPECT_TRUE(h.up());
  EXPECT_EQ(h.health(), 2U);
  EXPECT_EQ(h.on_result(false), HealthChange::WentDown);
  EXPECT_EQ(h.health(), 0U);
}

TEST(Health, RiseAndFallCounts) {
  Health h(2, 3);
  h.on_result(false);  // down
  EXPECT_EQ(h.on_result(true), HealthChange::None);
  EXPECT_FALSE(h.up());
  EXPECT_EQ(h.on_result(true), HealthChange::WentUp);
  EXPECT_EQ(h.health(), 4U);  // rise + fall - 1: fully up
  EXPECT_EQ(h.on_result(false), HealthChange::None);
  EXPECT_EQ(h.on_result(false), HealthChange::None);
  EXPECT_TRUE(h.up());
  EXPECT_EQ(h.on_result(false), HealthChange::WentDown);  // third failure
  EXPECT_EQ(h.on_result(false), HealthChange::None);
}

TEST(Health, RecoversWhileTransitional) {
  Health h(2, 3);
  h.on_result(true);
  EXPECT_TRUE(h.steady_up());
  h.on_result(false);
  EXPECT_FALSE(h.steady_up());
  h.on_result(true);
  EXPECT_TRUE(h.steady_up());
}

TEST(Health, IntervalFollowsTheManualTable) {
  milliseconds inter{2000}, fast{500}, down{10000};
  Health h(2, 3);
  EXPECT_EQ(h.interval(inter, fast, down), fast);  // unchecked: transitional
  h.on_result(true);
  EXPECT_EQ(h.interval(inter, fast, down), inter);
  h.set_up(false);
  EXPECT_EQ(h.interval(inter, fast, down), down);
  h.on_result(true);
  EXPECT_EQ(h.interval(inter, fast, down), fast);
}

TEST(CheckStatus, Table) {
  EXPECT_EQ(status_info(CheckStatus::L4Ok).name, "L4OK");
  EXPECT_EQ(status_info(CheckStatus::L4Con).reason, "Layer4 connection problem");
  EXPECT_EQ(status_info(CheckStatus::L4Tout).reason, "Layer4 timeout");
  EXPECT_TRUE(status_info(CheckStatus::L4Ok).passed);
  EXPECT_FALSE(status_info(CheckStatus::SockErr).passed);
}

}  // namespace
}  // namespace sluice::checks
