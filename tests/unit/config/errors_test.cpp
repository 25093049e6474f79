// Custom error pages: errorfile, errorloc*, errorfiles and http-errors sections.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::joined;
using testing::load;

class ErrorFiles : public ::testing::Test {
 protected:
  std::string dir;
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-errfile-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir).c_str()); }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

TEST_F(ErrorFiles, PageIsPreparedAsHaproxyServesIt) {
  auto f = write("503.http",
                 "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\n"
                 "Connection: close\r\nContent-Type: text/html\r\n\r\n<h1>down</h1>\n");
  auto r = load("frontend fe\n  mode http\n  bind :8080\n  errorfile 503 " + f + "\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const auto& pages = r.model.proxies[0].error_pages;
  ASSERT_EQ(pages.count(503), 1U);
  const ErrorPage& p = pages.at(503);
  EXPECT_EQ(p.head,
            "HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\n"
            "content-type: text/html\r\n");
  EXPECT_EQ(p.body, "<h1>down</h1>\n");
  EXPECT_FALSE(p.http11);
  EXPECT_FALSE(p.empty);
}

TEST_F(ErrorFiles, EmptyFileClosesSilently) {
  auto f = write("408.http", "");
  auto r = load("defaults\n  errorfile 408 " + f + "\nfrontend fe\n  bind :8080\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  EXPECT_TRUE(r.model.proxies[0].error_pages.at(408).empty);  // inherited from defaults
}

TEST_F(ErrorFiles, BadInputIsAnErrorWithFileAndLine) {
  auto bad = write("bad.http", "HTTP/1.1 503 Down\r\nBad Header\r\n\r\n");
  auto cut = write("cut.http", "HTTP/1.1 503 Down\r\nContent-Length: 3\r\n");
  auto big = write("big.http", "HTTP/1.1 503 Down\r\n\r\n" + std::string(20000, 'x'));
  auto r = load("frontend fe\n  bind :8080\n"
                "  errorfile 503 " + dir + "/missing.http\n"
                "  errorfile 503 " + bad + "\n"
                "  errorfile 503 " + cut + "\n"
                "  errorfile 503 " + big + "\n"
                "  errorfile 418 " + bad + "\n"
                "  errorfile 503\n"
                "  errorloc 503\n"
                "  errorfiles nosuch\n");
  auto e = errors(r);
  ASSERT_EQ(e.size(), 8U) << joined(e);
  EXPECT_NE(e[0].find("t.cfg:3: [errorfile] cannot open error file"), std::string::npos) << e[0];
  EXPECT_NE(e[1].find("t.cfg:4: [errorfile] error file"), std::string::npos) << e[1];
  EXPECT_NE(e[1].find("not a valid HTTP response"), std::string::npos) << e[1];
  EXPECT_NE(e[2].find("t.cfg:5:"), std::string::npos) << e[2];
  EXPECT_NE(e[2].find("no end of the header block"), std::string::npos) << e[2];
  EXPECT_NE(e[3].find("t.cfg:6:"), std::string::npos) << e[3];
  EXPECT_NE(e[3].find("at most 15360"), std::string::npos) << e[3];
  EXPECT_NE(e[4].find("t.cfg:7: [errorfile] status code '418'"), std::string::npos) << e[4];
  EXPECT_NE(e[5].find("t.cfg:8: [errorfile]"), std::string::npos) << e[5];
  EXPECT_NE(e[6].find("t.cfg:9: [errorloc]"), std::string::npos) << e[6];
  EXPECT_NE(e[7].find("t.cfg:10: [errorfiles] unknown http-errors section 'nosuch'"),
            std::string::npos)
      << e[7];
}

TEST_F(ErrorFiles, ErrorlocBuildsRedirects) {
  auto r = load("frontend fe\n  bind :8080\n  errorloc 503 /down\n  errorloc303 502 http://x/y\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const auto& pages = r.model.proxies[0].error_pages;
  EXPECT_EQ(pages.at(503).head,
            "HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\n"
            "location: /down\r\n");
  EXPECT_EQ(pages.at(502).head.substr(0, 24), "HTTP/1.1 303 See Other\r\n");
  EXPECT_TRUE(pages.at(502).body.empty());
}

TEST_F(ErrorFiles, HttpErrorsSectionsImportInOrder) {
  auto a503 = write("a503.http", "HTTP/1.1 503 A\r\nContent-Length: 1\r\n\r\na");
  auto a404 = write("a404.http", "HTTP/1.1 404 A\r\nContent-Length: 1\r\n\r\na");
  auto b503 = write("b503.http", "HTTP/1.1 503 B\r\nContent-Length: 1\r\n\r\nb");
  auto r = load("frontend fe1\n  bind :8080\n  errorfile 503 " + b503 + "\n  errorfiles site\n"
                "frontend fe2\n  bind :8081\n  errorfiles site 404\n"
                "frontend fe3\n  bind :8082\n  errorfiles site\n  errorfile 503 " + b503 + "\n"
                "http-errors site\n  errorfile 503 " + a503 + "\n  errorfile 404 " + a404 + "\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const auto& p1 = r.model.proxies[0].error_pages;
  const auto& p2 = r.model.proxies[1].error_pages;
  const auto& p3 = r.model.proxies[2].error_pages;
  EXPECT_EQ(p1.at(503).body, "a");  // the import came later: it wins
  EXPECT_EQ(p1.at(404).body, "a");
  EXPECT_EQ(p2.count(503), 0U);
  EXPECT_EQ(p2.at(404).body, "a");
  EXPECT_EQ(p3.at(503).body, "b");
}

TEST_F(ErrorFiles, HttpErrorsSectionAcceptsOnlyErrorfile) {
  auto r = load("http-errors site\n  errorloc 503 /x\nfrontend fe\n  bind :8080\n");
  auto e = errors(r);
  ASSERT_EQ(e.size(), 1U) << joined(e);
  EXPECT_NE(e[0].find("t.cfg:2: [errorloc] 'errorloc' is not valid in a http-errors section"),
            std::string::npos)
      << e[0];
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigRetryOn, ConditionsAndErrors) {
  using testing::errors;
  using testing::load;
  auto r = load("defaults\n  retry-on 503 empty-response\nbackend b\n  server s 127.0.0.1:80\n"
                "backend c\n  retry-on none\n  server s 127.0.0.1:80\n"
                "backend d\n  retry-on all-retryable-errors\n  server s 127.0.0.1:80\n"
                "backend e\n  server s 127.0.0.1:80\n");
  ASSERT_TRUE(r.ok()) << testing::joined(errors(r));
  const auto& p = r.model.proxies;
  EXPECT_EQ(p[0].retry_on, retry_on::status_bit(503) | retry_on::kEmptyResponse);
  EXPECT_EQ(p[1].retry_on, 0U);
  EXPECT_TRUE(p[2].retry_on & retry_on::kConnFailure);
  EXPECT_TRUE(p[2].retry_on & retry_on::status_bit(504));
  EXPECT_FALSE(p[2].retry_on & retry_on::status_bit(404));
  auto bad = load("backend b\n  retry-on 418\n  retry-on conn-falure\n  retry-on none 503\n"
                  "  retry-on\n  server s 127.0.0.1:80\n");
  auto e = errors(bad);
  ASSERT_EQ(e.size(), 4U) << testing::joined(e);
  EXPECT_NE(e[0].find("t.cfg:2: [retry-on] 'retry-on' cannot retry on status '418'"),
            std::string::npos);
  EXPECT_NE(e[1].find("did you mean 'conn-failure'"), std::string::npos) << e[1];
  EXPECT_NE(e[2].find("t.cfg:4:"), std::string::npos);
  EXPECT_NE(e[3].find("t.cfg:5:"), std::string::npos);
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigBalanceKeys, ArgumentsFillTheModel) {
  using testing::errors;
  using testing::load;
  auto r = load("backend a\n  balance uri len 12 depth 3 whole path-only\n  hash-type consistent\n"
                "  server s 127.0.0.1:80\n"
                "backend b\n  balance url_param userid check_post 64\n  server s 127.0.0.1:80\n"
                "backend c\n  balance hdr(Host) use_domain_only\n  server s 127.0.0.1:80\n"
                "backend d\n  balance random(3)\n  server s 127.0.0.1:80\n"
                "backend e\n  balance random\n  server s 127.0.0.1:80\n");
  ASSERT_TRUE(r.ok()) << testing::joined(errors(r));
  const auto& p = r.model.proxies;
  EXPECT_EQ(p[0].balance.algo, BalanceAlgo::Uri);
  EXPECT_EQ(p[0].balance.uri_len, 12U);
  EXPECT_EQ(p[0].balance.uri_depth, 3U);
  EXPECT_TRUE(p[0].balance.uri_whole && p[0].balance.uri_path_only);
  EXPECT_EQ(p[0].balance.hash_type, HashType::Consistent);
  EXPECT_EQ(p[1].balance.key_name, "userid");
  EXPECT_TRUE(p[1].balance.check_post);
  EXPECT_EQ(p[2].balance.algo, BalanceAlgo::Hdr);
  EXPECT_EQ(p[2].balance.key_name, "Host");
  EXPECT_TRUE(p[2].balance.use_domain_only);
  EXPECT_EQ(p[3].balance.args, std::vector<std::string>{"3"});
  EXPECT_TRUE(p[4].balance.args.empty());
  auto bad = load("backend b\n  balance uri len 0\n  balance uri dept 2\n  balance url_param\n"
                  "  balance hdr()\n  balance random(0)\n  balance hdr(Host) x\n"
                  "  hash-balance-factor 50\n  server s 127.0.0.1:80\n");
  auto e = errors(bad);
  ASSERT_EQ(e.size(), 7U) << testing::joined(e);
  EXPECT_NE(e[0].find("t.cfg:2: [balance] 'balance uri len' expects a positive number"),
            std::string::npos) << e[0];
  EXPECT_NE(e[1].find("did you mean 'depth'"), std::string::npos) << e[1];
  EXPECT_NE(e[2].find("expects a parameter name"), std::string::npos) << e[2];
  EXPECT_NE(e[3].find("t.cfg:5:"), std::string::npos) << e[3];
  EXPECT_NE(e[4].find("t.cfg:6:"), std::string::npos) << e[4];
  EXPECT_NE(e[5].find("unexpected argument 'x'"), std::string::npos) << e[5];
  EXPECT_NE(e[6].find("t.cfg:8: [hash-balance-factor] 'hash-balance-factor' expects 0 (off) or a "
                      "percentage above 100, got '50'"),
            std::string::npos)
      << e[6];
  auto ok = load("backend b\n  hash-balance-factor 150\n  server s 127.0.0.1:80\n");
  ASSERT_TRUE(ok.ok()) << testing::joined(errors(ok));
  EXPECT_EQ(ok.model.proxies[0].balance.hash_balance_factor, 150U);
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigCookieDates, MaxidleMaxlife) {
  using testing::errors;
  using testing::load;
  auto r = load("backend b\n  cookie SRV insert maxidle 30m maxlife 3600\n  server s 127.0.0.1:80\n");
  ASSERT_TRUE(r.ok()) << testing::joined(errors(r));
  EXPECT_EQ(r.model.proxies[0].cookie.maxidle, Millis(1800000));
  EXPECT_EQ(r.model.proxies[0].cookie.maxlife, Millis(3600000));  // seconds by default
  auto bad = load(
      "backend b\n  cookie SRV rewrite maxidle 30m\n  cookie SRV insert maxlife\n"
      "  cookie SRV insert maxidle 10ms\n  cookie SRV insert attr \"a;b\"\n"
      "  server s 127.0.0.1:80\n");
  auto e = errors(bad);
  ASSERT_EQ(e.size(), 4U) << testing::joined(e);
  EXPECT_NE(e[0].find("t.cfg:2: [cookie] 'cookie' options 'maxidle' and 'maxlife' work only with "
                      "'insert'"),
            std::string::npos)
      << e[0];
  EXPECT_NE(e[1].find("expects a value"), std::string::npos) << e[1];
  EXPECT_NE(e[2].find("at least one second"), std::string::npos) << e[2];
  EXPECT_EQ(e[3],
            "t.cfg:5: [cookie] 'cookie' option 'attr': the value 'a;b' must not contain ';' "
            "or control characters");
}

}  // namespace
}  // namespace sluice::config
