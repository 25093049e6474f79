// The one JSON string writer every stats output uses.
#include <gtest/gtest.h>

#include "stats/format.h"

namespace sluice::stats {
namespace {

TEST(JsonString, EscapesLikeNlohmannDump) {
  std::string out;
  append_json_string(out, std::string_view("a\"b\\c\b\f\n\r\t\x01\x1f\x7f\xc3\xa9", 15));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\"");
}

TEST(JsonString, TagWords) {
  EXPECT_EQ(tag_origin_name('M'), "Metric");
  EXPECT_EQ(tag_nature_name('G'), "Gauge");
  EXPECT_EQ(tag_scope_name('P'), "Process");
  EXPECT_EQ(tag_scope_name('?'), "Unknown");
}

}  // namespace
}  // namespace sluice::stats
