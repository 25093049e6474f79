#include "checks/duration_watch.h"

#include <gtest/gtest.h>

namespace sluice::checks {
namespace {

using E = DurationWatch::Event;

TEST(DurationWatch, MedianOfOddAndEvenWindows) {
  DurationWatch w(100, 5);
  EXPECT_EQ(w.median(), -1);
  for (int d : {5, 1, 9}) w.add(d);
  EXPECT_EQ(w.median(), 5);
  w.add(7);
  EXPECT_EQ(w.median(), 6);  // (5 + 7) / 2
  w.add(3);
  EXPECT_EQ(w.median(), 5);
  w.add(100);  // drops 5: {1, 9, 7, 3, 100}
  EXPECT_EQ(w.median(), 7);
}

TEST(DurationWatch, NoAlertBeforeTheWindowIsFull) {
  DurationWatch w(10, 3);
  EXPECT_EQ(w.add(500), E::None);
  EXPECT_EQ(w.add(500), E::None);
  EXPECT_EQ(w.add(500), E::Crossed);
}

TEST(DurationWatch, OneSpikeDoesNotAlertAndEachCrossingIsReportedOnce) {
  DurationWatch w(100, 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(w.add(10), E::None);
  EXPECT_EQ(w.add(1000), E::None);  // one slow check: the median stays low
  EXPECT_EQ(w.add(1000), E::None);
  EXPECT_EQ(w.add(1000), E::Crossed);  // three of five: median 1000
  EXPECT_TRUE(w.alerting());
  EXPECT_EQ(w.add(1000), E::None);  // still above: no repeat
  EXPECT_EQ(w.add(20), E::None);
  EXPECT_EQ(w.add(20), E::None);
  EXPECT_EQ(w.add(20), E::Recovered);  // {1000, 1000, 20, 20, 20}
  EXPECT_FALSE(w.alerting());
  EXPECT_EQ(w.add(20), E::None);
}

TEST(DurationWatch, ThresholdItselfIsNotAbove) {
  DurationWatch w(100, 1);
  EXPECT_EQ(w.add(100), E::None);
  EXPECT_EQ(w.add(101), E::Crossed);
  EXPECT_EQ(w.add(100), E::Recovered);
}

}  // namespace
}  // namespace sluice::checks
