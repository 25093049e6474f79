#include "util/base64.h"

#include <gtest/gtest.h>

namespace sluice::util {
namespace {

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64_decode("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(base64_decode("YWRtaW46cw=="), "admin:s");
  EXPECT_EQ(base64_decode("YWJjZA=="), "abcd");
  EXPECT_EQ(base64_decode("YWJjZGU="), "abcde");
  EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64, RefusesWhatIsNotStrictBase64) {
  EXPECT_FALSE(base64_decode("dXNlcjpwYXN"));  // length not a multiple of 4
  EXPECT_FALSE(base64_decode("dXNl cjpw"));    // outside the alphabet
  EXPECT_FALSE(base64_decode("YQ==YWJj"));     // padding before the end
  EXPECT_FALSE(base64_decode("Y==="));         // too much padding
  char out[2];
  std::size_t n = 0;
  EXPECT_FALSE(base64_decode("YWJj", out, sizeof out, n));  // longer than the buffer
}

}  // namespace
}  // namespace sluice::util
