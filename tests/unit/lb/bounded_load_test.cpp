// hash-balance-factor: consistent hashing with bounded loads.
#include <gtest/gtest.h>

#include "fake_load.h"
#include "lb/algorithms.h"

namespace sluice::lb {
namespace {

TEST(BoundedLoad, MovesKeysOffAnOverloadedServerOnly) {
  auto members = testing::members_with_weights({1, 1, 1});
  auto plain = make_key_hash(config::HashType::Consistent, KeyHasher{}, 0);
  auto bounded = make_key_hash(config::HashType::Consistent, KeyHasher{}, 150);
  plain->set_members(members);
  bounded->set_members(members);
  testing::FakeLoad load;
  PickInput in;
  in.key = std::string_view("some-key");
  auto first = plain->pick(in, load);
  ASSERT_TRUE(first);
  EXPECT_EQ(bounded->pick(in, load), first);  // idle farm: the same choice
  load.conns[*first] = 10;  // allowed: ceil(11 * 150 / 300) = 6
  auto moved = bounded->pick(in, load);
  ASSERT_TRUE(moved);
  EXPECT_NE(*moved, *first);
  EXPECT_EQ(plain->pick(in, load), first);  // without the factor it stays
  load.conns[0] = load.conns[1] = load.conns[2] = 4;
  load.conns[*first] = 5;  // total 13: allowed ceil(14 * 150 / 300) = 7, within the bound
  EXPECT_EQ(bounded->pick(in, load), first);
}

}  // namespace
}  // namespace sluice::lb
