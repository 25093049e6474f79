// Numbers, times and sizes.

#include "config/values.h"

#include <gtest/gtest.h>

namespace sluice::config {
namespace {

TEST(ConfigValues, TimeUnits) {
  EXPECT_EQ(*parse_time("5000"), Millis(5000));  // bare number: milliseconds
  EXPECT_EQ(*parse_time("250ms"), Millis(250));
  EXPECT_EQ(*parse_time("5s"), Millis(5000));
  EXPECT_EQ(*parse_time("2m"), Millis(120000));
  EXPECT_EQ(*parse_time("1h"), Millis(3600000));
  EXPECT_EQ(*parse_time("1d"), Millis(86400000));
  EXPECT_EQ(*parse_time("1500us"), Millis(2));  // rounded up
  EXPECT_EQ(*parse_time("0"), Millis(0));
}

TEST(ConfigValues, BadTimes) {
  EXPECT_EQ(parse_time("x").error(), "expected a time like 5s, got 'x'");
  EXPECT_EQ(parse_time("").error(), "expected a time like 5s, got ''");
  EXPECT_EQ(parse_time("5x").error(),
            "expected a time like 5s, got '5x' (units: us, ms, s, m, h, d)");
  EXPECT_EQ(parse_time("5 s").error(),
            "expected a time like 5s, got '5 s' (units: us, ms, s, m, h, d)");
  EXPECT_EQ(parse_time("-5s").error(), "expected a time like 5s, got '-5s'");
  EXPECT_EQ(parse_time("25d").error(),
            "time '25d' is too large (at most 2147483647ms, about 24.8 days)");
  EXPECT_FALSE(parse_time("99999999999999999999999").ok());
}

TEST(ConfigValues, Sizes) {
  EXPECT_EQ(*parse_size("512"), 512U);
  EXPECT_EQ(*parse_size("16k"), 16384U);
  EXPECT_EQ(*parse_size("2m"), 2U << 20);
  EXPECT_EQ(*parse_size("1g"), 1U << 30);
  EXPECT_EQ(parse_size("16kb").error(), "expected a size like 16k, got '16kb' (units: k, m, g)");
  EXPECT_EQ(parse_size("k").error(), "expected a size like 16k, got 'k'");
  EXPECT_EQ(parse_size("99999999999999g").error(), "size '99999999999999g' is too large");
}

TEST(ConfigValues, Numbers) {
  EXPECT_EQ(*parse_uint("42"), 42U);
  EXPECT_EQ(parse_uint("4x").error(), "expected a number, got '4x'");
  EXPECT_EQ(parse_uint("-1").error(), "expected a number, got '-1'");
  EXPECT_EQ(parse_uint("300", 0, 256).error(), "value 300 out of range 0..256");
  EXPECT_EQ(parse_uint("99999999999").error(), "value 99999999999 out of range 0..4294967295");
  EXPECT_EQ(*parse_int("-3", -10, 10), -3);
  EXPECT_EQ(parse_int("--3", -10, 10).error(), "expected a number, got '--3'");
  EXPECT_EQ(*parse_octal("600"), 0600U);
  EXPECT_EQ(parse_octal("689").error(), "expected an octal mode like 600, got '689'");
}

}  // namespace
}  // namespace sluice::config
