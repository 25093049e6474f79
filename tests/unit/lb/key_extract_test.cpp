// Key extraction of balance uri / url_param / hdr(name) use_domain_only.
#include "lb/key_extract.h"

#include <gtest/gtest.h>

namespace sluice::lb {
namespace {

config::Balance uri(unsigned len = 0, unsigned depth = 0, bool whole = false, bool path_only = false) {
  config::Balance b;
  b.algo = config::BalanceAlgo::Uri;
  b.uri_len = len;
  b.uri_depth = depth;
  b.uri_whole = whole;
  b.uri_path_only = path_only;
  return b;
}

TEST(KeyExtract, Uri) {
  EXPECT_EQ(uri_key("/a/b/c?x=1", uri()), "/a/b/c");
  EXPECT_EQ(uri_key("/a/b/c?x=1", uri(0, 0, true)), "/a/b/c?x=1");
  EXPECT_EQ(uri_key("/a/b/c?x=1", uri(4)), "/a/b");
  EXPECT_EQ(uri_key("/a/b/c?x=1", uri(0, 1)), "/a");
  EXPECT_EQ(uri_key("/a/b/c?x=1", uri(0, 2)), "/a/b");
  EXPECT_EQ(uri_key("/a/b/c?x=1", uri(3, 2)), "/a/");  // whichever limit comes first
  EXPECT_EQ(uri_key("http://h.example/a/b?q", uri()), "http://h.example/a/b");
  EXPECT_EQ(uri_key("http://h.example/a/b?q", uri(0, 0, false, true)), "/a/b");
  EXPECT_EQ(uri_key("http://h.example", uri(0, 0, false, true)), "");
  EXPECT_EQ(uri_key("/", uri()), "/");
}

TEST(KeyExtract, UrlParam) {
  EXPECT_EQ(query_of("/p?a=1&user=bob#frag"), "a=1&user=bob");
  EXPECT_EQ(query_of("/p"), "");
  EXPECT_EQ(url_param_key("a=1&user=bob", "user"), "bob");
  EXPECT_EQ(url_param_key("user=bob&x=2", "user"), "bob");
  EXPECT_EQ(url_param_key("username=bob", "user"), std::nullopt);
  EXPECT_EQ(url_param_key("user=&x=2", "user"), std::nullopt);  // empty: round robin
  EXPECT_EQ(url_param_key("user", "user"), std::nullopt);
  EXPECT_EQ(url_param_key("", "user"), std::nullopt);
}

TEST(KeyExtract, DomainOnly) {
  EXPECT_EQ(domain_only("haproxy.1wt.eu"), "1wt");
  EXPECT_EQ(domain_only("www.example.com:8080"), "example");
  EXPECT_EQ(domain_only("example.com"), "example");
  EXPECT_EQ(domain_only("localhost"), "localhost");
}

}  // namespace
}  // namespace sluice::lb
