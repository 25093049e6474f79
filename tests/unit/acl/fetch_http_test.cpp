// HTTP fetches over a hand-made request.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "acl/fetch.h"

namespace sluice::acl {
namespace {

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

class Request final : public SampleSource {
 public:
  std::string method = "GET";
  std::string target = "/a/b.html?x=1&y=two&x=3";
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<std::string_view> http_method() const override { return method; }
  std::optional<std::string_view> http_target() const override { return target; }
  bool http_req_field(std::string_view name, std::size_t i, std::string_view& out) const override {
    for (const auto& [n, v] : fields)
      if (ieq(n, name) && i-- == 0) {
        out = v;
        return true;
      }
    return false;
  }
};

std::optional<std::string> str(const Request& r, std::string_view fetch, std::string arg = "",
                               std::optional<std::int64_t> occ = {}) {
  const FetchDef* d = find_fetch(fetch);
  EXPECT_NE(d, nullptr) << fetch;
  EXPECT_NE(d->fetch, nullptr) << fetch;
  FetchArgs a;
  a.str = std::move(arg);
  if (occ) {
    a.num = *occ;
    a.has_num = true;
  }
  Sample s;
  if (!d->fetch(r, a, s)) return {};
  if (s.type == SampleType::Int) return std::to_string(s.integer);
  return std::string(s.str);
}

TEST(FetchHttp, HeadersWithOccurrencesAndCommas) {
  Request r;
  r.fields = {{"Host", "Www.Example.com"}, {"X-F", "a, b"}, {"x-f", "c"}};
  EXPECT_EQ(str(r, "hdr", "host"), "Www.Example.com");
  EXPECT_EQ(str(r, "req.hdr", "HOST"), "Www.Example.com");
  EXPECT_EQ(str(r, "hdr", "x-f"), "c");  // last by default
  EXPECT_EQ(str(r, "hdr", "x-f", 1), "a");
  EXPECT_EQ(str(r, "hdr", "x-f", 2), "b");
  EXPECT_EQ(str(r, "hdr", "x-f", -2), "b");
  EXPECT_EQ(str(r, "hdr", "x-f", 4), std::nullopt);
  EXPECT_EQ(str(r, "hdr", "absent"), std::nullopt);
  EXPECT_EQ(str(r, "hdr_cnt", "x-f"), "3");
  EXPECT_EQ(str(r, "hdr_cnt", "absent"), "0");
  EXPECT_EQ(find_fetch("hdr_end")->default_match, MatchKind::End);
  EXPECT_EQ(find_fetch("hdr_dom")->default_match, MatchKind::Dom);
}

TEST(FetchHttp, UrlParts) {
  Request r;
  EXPECT_EQ(str(r, "method"), "GET");
  EXPECT_EQ(str(r, "url"), "/a/b.html?x=1&y=two&x=3");
  EXPECT_EQ(str(r, "path"), "/a/b.html");
  EXPECT_EQ(str(r, "query"), "x=1&y=two&x=3");
  EXPECT_EQ(str(r, "url_param", "y"), "two");
  EXPECT_EQ(str(r, "url_param", "x"), "1");
  EXPECT_EQ(str(r, "url_param", "z"), std::nullopt);
  r.target = "http://h.example:8080/p/q?k";
  EXPECT_EQ(str(r, "path"), "/p/q");
  EXPECT_EQ(str(r, "url_param", "k"), "");
  r.target = "http://h.example";
  EXPECT_EQ(str(r, "path"), "/");
  EXPECT_EQ(str(r, "query"), std::nullopt);
  EXPECT_EQ(find_fetch("path_beg")->default_match, MatchKind::Beg);
  EXPECT_EQ(find_fetch("url_sub")->default_match, MatchKind::Sub);
}

TEST(FetchHttp, Cookies) {
  Request r;
  r.fields = {{"Cookie", "a=1; SERVERID=s1 ; b=2"}, {"cookie", "SERVERID=s2"}};
  EXPECT_EQ(str(r, "req.cook", "SERVERID"), "s2");  // the last one
  EXPECT_EQ(str(r, "cook", "a"), "1");
  EXPECT_EQ(str(r, "cook", "zz"), std::nullopt);
}

TEST(FetchHttp, NothingOutsideHttp) {
  SampleSource tcp;
  FetchArgs a;
  a.str = "host";
  Sample s;
  EXPECT_FALSE(find_fetch("hdr")->fetch(tcp, a, s));
  EXPECT_FALSE(find_fetch("hdr_cnt")->fetch(tcp, a, s));
  EXPECT_FALSE(find_fetch("path")->fetch(tcp, a, s));
  EXPECT_FALSE(find_fetch("status")->fetch(tcp, a, s));
}

}  // namespace
}  // namespace sluice::acl
