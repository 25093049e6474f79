#include "core/speculation.h"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

TEST(SpeculationGate, TriesWhileReadsFindData) {
  SpeculationGate g;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(g.should_try());
    g.record(true);
  }
  EXPECT_EQ(g.score(), SpeculationGate::kMax);
}

TEST(SpeculationGate, StopsAfterMissesButStillProbes) {
  SpeculationGate g;
  g.record(false);  // one miss from a neutral start: below zero
  int tried = 0;
  for (int i = 0; i < 160; ++i) {
    if (g.should_try()) {
      ++tried;
      g.record(false);
    }
  }
  EXPECT_EQ(tried, 160 / static_cast<int>(SpeculationGate::kProbeEvery));
  EXPECT_EQ(g.score(), SpeculationGate::kMin);
}

TEST(SpeculationGate, BreaksEvenAtTwoHitsInThree) {
  SpeculationGate g;
  for (int i = 0; i < 30; ++i) {  // hit, hit, miss: the score stays put
    g.record(true);
    g.record(true);
    g.record(false);
  }
  EXPECT_EQ(g.score(), 0);
  EXPECT_TRUE(g.should_try());
  g.record(false);  // one more miss than that: stop trying
  EXPECT_FALSE(g.should_try());
}

TEST(SpeculationGate, ComesBackWhenProbesHit) {
  SpeculationGate g;
  for (int i = 0; i < 20; ++i) g.record(false);
  ASSERT_EQ(g.score(), SpeculationGate::kMin);
  int probes = 0;
  for (int i = 0; i < 1000 && g.score() < 0; ++i) {
    if (g.should_try()) {
      ++probes;
      g.record(true);
    }
  }
  EXPECT_EQ(g.score(), 0);
  EXPECT_EQ(probes, -SpeculationGate::kMin);  // one probe in kProbeEvery, each a hit
  EXPECT_TRUE(g.should_try());
}

}  // namespace
}  // namespace sluice::core
