#include "lb/hash.h"

#include <gtest/gtest.h>

namespace sluice::lb {
namespace {

// Expected values were produced by HAProxy 2.6's converters of the same name
// (sdbm, djb2, wt6, crc32 and their avalanche variants), and crc32 also by
// its published check value.
TEST(Hash, Sdbm) {
  EXPECT_EQ(hash_sdbm(""), 0U);
  EXPECT_EQ(hash_sdbm("a"), 97U);
  EXPECT_EQ(hash_sdbm("hello"), 684824882U);
}

TEST(Hash, Djb2) {
  EXPECT_EQ(hash_djb2(""), 5381U);
  EXPECT_EQ(hash_djb2("hello"), 261238937U);
}

TEST(Hash, Wt6) {
  EXPECT_EQ(hash_wt6(""), 4187620192U);
  EXPECT_EQ(hash_wt6("a"), 1900802597U);
  EXPECT_EQ(hash_wt6("hello"), 3538347703U);
  EXPECT_EQ(hash_wt6("192.168.0.1"), 2849228218U);
  EXPECT_EQ(hash_wt6("the_quick_brown_fox_jumps_over_the_lazy_dog"), 2559509478U);
}

TEST(Hash, Crc32) {
  EXPECT_EQ(hash_crc32("123456789"), 0xCBF43926U);  // the standard check value
  EXPECT_EQ(hash_crc32("hello"), 907060870U);
  EXPECT_EQ(hash_crc32(""), 0U);
}

TEST(Hash, AvalancheModifier) {
  EXPECT_EQ(full_avalanche(hash_sdbm("hello")), 2061535398U);
  EXPECT_EQ(full_avalanche(hash_djb2("hello")), 1119739105U);
  EXPECT_EQ(full_avalanche(hash_wt6("hello")), 140457739U);
  EXPECT_EQ((KeyHasher{config::HashFunction::Sdbm, true}("hello")), 2061535398U);
  EXPECT_EQ((KeyHasher{config::HashFunction::Crc32, false}("hello")), 907060870U);
}

TEST(Hash, NoneUsesTheKeyAsADecimalInteger) {
  EXPECT_EQ(hash_none("12345"), 12345U);
  EXPECT_EQ(hash_none("4294967297"), 1U);  // truncated to 32 bits
  EXPECT_EQ(hash_none("-1"), 0xffffffffU);
  EXPECT_EQ(hash_none("abc"), 0U);
  EXPECT_EQ((KeyHasher{config::HashFunction::None, false}("77")), 77U);
}

}  // namespace
}  // namespace sluice::lb
