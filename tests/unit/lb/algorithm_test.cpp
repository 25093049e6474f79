#include "lb/algorithm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <string>

#include "fake_load.h"
#include "lb/algorithms.h"

namespace sluice::lb {
namespace {

using testing::FakeLoad;
using testing::members_with_weights;

config::Balance balance_of(config::BalanceAlgo algo) {
  config::Balance b;
  b.algo = algo;
  return b;
}

std::vector<std::uint64_t> count_picks(Algorithm& a, const LoadView& load, std::size_t n_members,
                                       int picks, const PickInput& in = {}) {
  std::vector<std::uint64_t> counts(n_members, 0);
  for (int i = 0; i < picks; ++i) {
    auto p = a.pick(in, load);
    EXPECT_TRUE(p.has_value());
    if (p) counts.at(*p)++;
  }
  return counts;
}

void expect_weighted(const std::vector<std::uint64_t>& counts,
                     const std::vector<std::uint32_t>& weights, int picks, double tolerance) {
  double total = 0;
  for (auto w : weights) total += w;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double want = picks * weights[i] / total;
    EXPECT_NEAR(double(counts[i]), want, picks * tolerance) << "member " << i;
  }
}

// ------------------------------------------------------------ round robin

class WeightedRr : public ::testing::TestWithParam<config::BalanceAlgo> {};

TEST_P(WeightedRr, DistributionFollowsWeightsWithinOnePercent) {
  const std::vector<std::uint32_t> weights{1, 2, 3, 10};
  auto a = make_algorithm(balance_of(GetParam()));
  a->set_members(members_with_weights(weights));
  FakeLoad load;
  const int picks = 100000;
  expect_weighted(count_picks(*a, load, weights.size(), picks), weights, picks, 0.01);
}

TEST_P(WeightedRr, SmoothInEveryWindow) {
  const std::vector<std::uint32_t> weights{1, 2, 3, 10, 7};
  double total = 0;
  for (auto w : weights) total += w;
  auto a = make_algorithm(balance_of(GetParam()));
  a->set_members(members_with_weights(weights));
  FakeLoad load;
  std::vector<std::uint32_t> seq;
  for (int i = 0; i < 5000; ++i) seq.push_back(*a->pick({}, load));
  for (std::size_t window : {2U, 3U, 5U, 8U, 13U, 23U, 50U}) {
    for (std::size_t start = 0; start + window <= seq.size(); ++start) {
      std::vector<int> c(weights.size(), 0);
      for (std::size_t k = start; k < start + window; ++k) c[seq[k]]++;
      for (std::size_t m = 0; m < weights.size(); ++m) {
        const int bound = int(std::ceil(weights[m] / total * double(window))) + 1;
        ASSERT_LE(c[m], bound) << "member " << m << " window " << window << " at " << start;
      }
    }
  }
}

TEST_P(WeightedRr, ThreeToOneInterleaves) {
  auto a = make_algorithm(balance_of(GetParam()));
  a->set_members(members_with_weights({3, 1}));
  FakeLoad load;
  std::string s;
  for (int i = 0; i < 16; ++i) s += char('a' + *a->pick({}, load));
  EXPECT_EQ(std::count(s.begin(), s.end(), 'b'), 4) << s;
  EXPECT_EQ(s.find("bb"), std::string::npos) << s;
  EXPECT_EQ(s.find("aaaa"), std::string::npos) << s;
}

TEST_P(WeightedRr, SkipsFullAndGivesNothingWhenAllFull) {
  auto a = make_algorithm(balance_of(GetParam()));
  a->set_members(members_with_weights({1, 1, 1}));
  FakeLoad load;
  load.is_full[1] = true;
  for (int i = 0; i < 30; ++i) EXPECT_NE(*a->pick({}, load), 1U);
  load.is_full[0] = load.is_full[2] = true;
  EXPECT_FALSE(a->pick({}, load).has_value());
  load.is_full[1] = false;
  EXPECT_EQ(a->pick({}, load), 1U);
}

TEST_P(WeightedRr, WeightZeroNeverPickedAndEmptyGivesNothing) {
  auto a = make_algorithm(balance_of(GetParam()));
  FakeLoad load;
  EXPECT_FALSE(a->pick({}, load).has_value());
  a->set_members(members_with_weights({0, 2, 0}));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*a->pick({}, load), 1U);
  a->set_members(members_with_weights({0, 0}));
  EXPECT_FALSE(a->pick({}, load).has_value());
}

TEST_P(WeightedRr, SetMembersChangesWeights) {
  auto a = make_algorithm(balance_of(GetParam()));
  FakeLoad load;
  a->set_members(members_with_weights({1, 1}));
  for (int i = 0; i < 1001; ++i) (void)a->pick({}, load);
  const std::vector<std::uint32_t> weights{1, 4};
  a->set_members(members_with_weights(weights));
  expect_weighted(count_picks(*a, load, 2, 10000), weights, 10000, 0.01);
}

INSTANTIATE_TEST_SUITE_P(Lb, WeightedRr,
                         ::testing::Values(config::BalanceAlgo::RoundRobin,
                                           config::BalanceAlgo::StaticRr),
                         [](const auto& param_info) {
                           return param_info.param == config::BalanceAlgo::RoundRobin ? "roundrobin"
                                                                                      : "static_rr";
                         });

TEST(RoundRobin, FreedServerIsNotFlooded) {
  auto a = make_roundrobin();
  a->set_members(members_with_weights({1, 1}));
  FakeLoad load;
  load.is_full[0] = true;
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(*a->pick({}, load), 1U);
  load.is_full[0] = false;
  std::vector<int> c(2, 0);
  for (int i = 0; i < 10; ++i) c[*a->pick({}, load)]++;
  EXPECT_LE(c[0], 6);  // no catch-up burst for the 1000 turns it missed
}

// ------------------------------------------------------------ leastconn

TEST(LeastConn, PicksFewestConnections) {
  auto a = make_algorithm(balance_of(config::BalanceAlgo::LeastConn));
  a->set_members(members_with_weights({1, 1, 1}));
  FakeLoad load;
  load.conns = {5, 2, 9};
  EXPECT_EQ(a->pick({}, load), 1U);
  load.conns[1] = 10;
  EXPECT_EQ(a->pick({}, load), 0U);
}

TEST(LeastConn, RelativeToWeight) {
  auto a = make_leastconn();
  a->set_members(members_with_weights({1, 4}));
  FakeLoad load;
  load.conns = {2, 8};  // 3/1 vs 9/4: the weight-4 server is less loaded
  EXPECT_EQ(a->pick({}, load), 1U);
  load.conns = {1, 8};  // 2/1 vs 9/4
  EXPECT_EQ(a->pick({}, load), 0U);
  load.conns = {0, 0};  // idle: the heavier one first
  EXPECT_EQ(a->pick({}, load), 1U);
}

TEST(LeastConn, TiesRotate) {
  auto a = make_leastconn();
  a->set_members(members_with_weights({1, 1, 1, 1}));
  FakeLoad load;
  std::vector<int> c(4, 0);
  for (int i = 0; i < 400; ++i) c[*a->pick({}, load)]++;
  for (int v : c) EXPECT_EQ(v, 100);
}

TEST(LeastConn, SimulatedConnectionsStayBalanced) {
  auto a = make_leastconn();
  a->set_members(members_with_weights({1, 2, 1}));
  FakeLoad load;
  for (int i = 0; i < 400; ++i) load.conns[*a->pick({}, load)]++;
  EXPECT_NEAR(load.conns[0], 100, 1);
  EXPECT_NEAR(load.conns[1], 200, 1);
  EXPECT_NEAR(load.conns[2], 100, 1);
}

TEST(LeastConn, FullSkippedAllFullNothing) {
  auto a = make_leastconn();
  a->set_members(members_with_weights({1, 1, 0}));
  FakeLoad load;
  load.conns = {0, 50, 0};
  load.is_full[0] = true;
  EXPECT_EQ(a->pick({}, load), 1U);
  load.is_full[1] = true;
  EXPECT_FALSE(a->pick({}, load).has_value());  // weight-0 member 2 is never a fallback
}

// ------------------------------------------------------------ first

TEST(First, FillsLowestIdUntilFull) {
  auto a = make_algorithm(balance_of(config::BalanceAlgo::First));
  // Member order differs from id order; weights are ignored.
  a->set_members(std::vector<Member>{{0, 3, 10}, {1, 1, 1}, {2, 2, 5}});
  FakeLoad load;
  const std::uint32_t maxconn = 3;
  std::vector<std::uint32_t> order;
  for (int i = 0; i < 9; ++i) {
    auto p = a->pick({}, load);
    ASSERT_TRUE(p);
    order.push_back(*p);
    if (++load.conns[*p] >= maxconn) load.is_full[*p] = true;
  }
  EXPECT_EQ(order, (std::vector<std::uint32_t>{1, 1, 1, 2, 2, 2, 0, 0, 0}));
  EXPECT_FALSE(a->pick({}, load).has_value());
  load.is_full[2] = false;  // a slot frees on id 2
  EXPECT_EQ(a->pick({}, load), 2U);
}

// ------------------------------------------------------------ hashing

std::string ipv4_key(std::uint32_t n) {
  std::string k(4, '\0');
  for (int b = 0; b < 4; ++b) k[b] = char((n >> (24 - 8 * b)) & 0xff);
  return k;
}

TEST(Source, StableForTheSameKeyAndSpreadAcrossKeys) {
  for (auto type : {config::HashType::MapBased, config::HashType::Consistent}) {
    config::Balance b = balance_of(config::BalanceAlgo::Source);
    b.hash_type = type;
    b.avalanche = true;
    auto a = make_algorithm(b);
    a->set_members(members_with_weights({1, 1, 1, 1}));
    FakeLoad load;
    std::vector<int> c(4, 0);
    for (std::uint32_t i = 0; i < 20000; ++i) {
      const auto key = ipv4_key(0x0a000000U + i);
      PickInput in{key};
      const auto first = a->pick(in, load);
      ASSERT_TRUE(first);
      EXPECT_EQ(a->pick(in, load), first);
      c[*first]++;
    }
    // A ring of 100 points per weight unit is within about 20 % of even.
    const int spread = type == config::HashType::MapBased ? 600 : 1250;
    for (int v : c) EXPECT_NEAR(v, 5000, spread) << int(type);
  }
}

TEST(Source, MapBasedFollowsWeights) {
  config::Balance b = balance_of(config::BalanceAlgo::Source);
  b.hash_function = config::HashFunction::Crc32;
  auto a = make_algorithm(b);
  const std::vector<std::uint32_t> weights{1, 3};
  a->set_members(members_with_weights(weights));
  FakeLoad load;
  std::vector<std::uint64_t> c(2, 0);
  for (std::uint32_t i = 0; i < 100000; ++i) {
    const auto key = ipv4_key(0xc0a80000U + i * 7919U);
    c[*a->pick(PickInput{key}, load)]++;
  }
  expect_weighted(c, weights, 100000, 0.01);
}

TEST(Source, HashedFullMemberIsStillReturnedNoKeyFallsBackToRoundRobin) {
  auto a = make_algorithm(balance_of(config::BalanceAlgo::Source));
  a->set_members(members_with_weights({1, 1}));
  FakeLoad load;
  const std::string key = ipv4_key(0x7f000001U);
  const auto owner = *a->pick(PickInput{key}, load);
  load.is_full[owner] = true;
  EXPECT_EQ(a->pick(PickInput{key}, load), owner);  // caller queues on it
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a->pick({}, load), 1U - owner);
  load.is_full[1U - owner] = true;
  EXPECT_FALSE(a->pick({}, load).has_value());
  load.is_full = std::vector<bool>(64, false);
  std::vector<int> c(2, 0);
  for (int i = 0; i < 10; ++i) c[*a->pick({}, load)]++;
  EXPECT_EQ(c[0], 5);
}

struct RemapResult {
  double moved = 0;
  bool only_to_new = true;
};

RemapResult remap_after_adding_one(config::HashType type, std::uint32_t n) {
  config::Balance b = balance_of(config::BalanceAlgo::Source);
  b.hash_type = type;
  b.hash_function = config::HashFunction::Sdbm;
  b.avalanche = true;
  auto before = make_algorithm(b);
  auto after = make_algorithm(b);
  std::vector<std::uint32_t> weights(n, 1);
  before->set_members(members_with_weights(weights));
  weights.push_back(1);
  after->set_members(members_with_weights(weights));
  FakeLoad load;
  RemapResult r;
  const int keys = 100000;
  int moved = 0;
  for (int i = 0; i < keys; ++i) {
    const auto key = ipv4_key(0x0a000000U + std::uint32_t(i) * 2654435761U);
    const auto x = *before->pick(PickInput{key}, load);
    const auto y = *after->pick(PickInput{key}, load);
    if (x != y) {
      ++moved;
      if (y != n) r.only_to_new = false;
    }
  }
  r.moved = double(moved) / keys;
  return r;
}

TEST(ConsistentHash, AddingOneServerRemapsAboutOneNth) {
  for (std::uint32_t n = 4; n <= 16; ++n) {
    const auto r = remap_after_adding_one(config::HashType::Consistent, n);
    const double ideal = 1.0 / (n + 1);
    EXPECT_LE(r.moved, ideal * 1.25 + 0.005) << "N=" << n;
    EXPECT_GE(r.moved, ideal * 0.75) << "N=" << n;  // the new server does get its share
    EXPECT_TRUE(r.only_to_new) << "N=" << n;
  }
}

TEST(MapBasedHash, AddingOneServerRemapsMostKeys) {
  // Documented behaviour (and HAProxy's): map-based moves most keys.
  for (std::uint32_t n = 4; n <= 16; n += 4) {
    const auto r = remap_after_adding_one(config::HashType::MapBased, n);
    EXPECT_GT(r.moved, 0.5) << "N=" << n;
    EXPECT_FALSE(r.only_to_new);
  }
}

TEST(ConsistentHash, ShareFollowsWeightAndRemovalOnlyMovesItsKeys) {
  config::Balance b = balance_of(config::BalanceAlgo::Source);
  b.hash_type = config::HashType::Consistent;
  b.hash_function = config::HashFunction::Crc32;
  b.avalanche = true;
  auto a = make_algorithm(b);
  const std::vector<std::uint32_t> weights{1, 2, 1, 4};
  a->set_members(members_with_weights(weights));
  FakeLoad load;
  std::vector<std::uint64_t> c(4, 0);
  std::vector<std::uint32_t> owner;
  for (std::uint32_t i = 0; i < 100000; ++i) {
    owner.push_back(*a->pick(PickInput{ipv4_key(i * 40503U)}, load));
    c[owner.back()]++;
  }
  expect_weighted(c, weights, 100000, 0.03);
  // Member 1 goes away: only its keys move.
  auto m = members_with_weights(weights);
  m.erase(m.begin() + 1);
  a->set_members(m);
  for (std::uint32_t i = 0; i < 100000; ++i) {
    const auto now = *a->pick(PickInput{ipv4_key(i * 40503U)}, load);
    if (owner[i] != 1) {
      ASSERT_EQ(now, owner[i]);
    }
  }
}

TEST(KeyHash, UriHdrUrlParamUseTheSameMachinery) {
  for (auto algo :
       {config::BalanceAlgo::Uri, config::BalanceAlgo::UrlParam, config::BalanceAlgo::Hdr}) {
    auto a = make_algorithm(balance_of(algo));
    a->set_members(members_with_weights({1, 1, 1}));
    FakeLoad load;
    const std::string key = "/images/logo.png";
    const auto p = a->pick(PickInput{key}, load);
    ASSERT_TRUE(p);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(a->pick(PickInput{key}, load), p);
  }
}

// ------------------------------------------------------------ random

TEST(Random, FollowsWeightsWithOneDraw) {
  config::Balance b = balance_of(config::BalanceAlgo::Random);
  b.args = {"1"};
  auto a = make_algorithm(b);
  const std::vector<std::uint32_t> weights{1, 3};
  a->set_members(members_with_weights(weights));
  FakeLoad load;
  expect_weighted(count_picks(*a, load, 2, 100000), weights, 100000, 0.03);
}

TEST(Random, TwoDrawsAvoidTheLoadedServer) {
  auto a = make_random(2, 42);
  a->set_members(members_with_weights({1, 1, 1, 1}));
  FakeLoad load;
  load.conns = {100, 0, 0, 0};
  int loaded = 0;
  for (int i = 0; i < 10000; ++i) loaded += *a->pick({}, load) == 0;
  // Member 0 only wins when both draws hit it: about 1/16 (1/4 with one draw).
  EXPECT_GT(loaded, 200);
  EXPECT_LT(loaded, 1000);
}

TEST(Random, SkipsFullAllFullNothing) {
  auto a = make_random(2, 7);
  a->set_members(members_with_weights({1, 1, 1}));
  FakeLoad load;
  load.is_full[0] = load.is_full[1] = true;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a->pick({}, load), 2U);
  load.is_full[2] = true;
  EXPECT_FALSE(a->pick({}, load).has_value());
}

// ------------------------------------------------------------ factory

TEST(Factory, EveryAlgorithmPicksAndHasAName) {
  for (auto algo :
       {config::BalanceAlgo::RoundRobin, config::BalanceAlgo::StaticRr,
        config::BalanceAlgo::LeastConn, config::BalanceAlgo::First, config::BalanceAlgo::Source,
        config::BalanceAlgo::Uri, config::BalanceAlgo::UrlParam, config::BalanceAlgo::Hdr,
        config::BalanceAlgo::Random}) {
    auto a = make_algorithm(balance_of(algo));
    ASSERT_NE(a, nullptr);
    a->set_members(members_with_weights({1, 2}));
    FakeLoad load;
    EXPECT_TRUE(a->pick({}, load).has_value()) << algorithm_name(algo);
    EXPECT_NE(algorithm_name(algo), "?");
  }
  EXPECT_EQ(algorithm_name(config::BalanceAlgo::StaticRr), "static-rr");
}

}  // namespace
}  // namespace sluice::lb
