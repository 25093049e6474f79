// Cookie persistence helpers and cacheability (facts checked against haproxy 2.6).
#include "httpmode/cookie.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::httpmode {
namespace {

std::string strip(std::string_view f, std::string_view n) {
  char buf[256];
  return std::string(buf, strip_cookie(f, n, buf, sizeof buf));
}

TEST(Cookie, FindAndStrip) {
  EXPECT_EQ(find_cookie("a=1; SERVERID=Local; b=2", "SERVERID"), "Local");
  EXPECT_EQ(find_cookie("SERVERID=", "SERVERID"), "");
  EXPECT_EQ(find_cookie("XSERVERID=1", "SERVERID"), std::nullopt);
  EXPECT_EQ(strip("a=1; SERVERID=Local; b=2", "SERVERID"), "a=1; b=2");
  EXPECT_EQ(strip("SERVERID=Local", "SERVERID"), "");
  EXPECT_EQ(strip("a=1;b=2", "SERVERID"), "a=1; b=2");
}

TEST(Cookie, SetCookieValue) {
  config::CookieDef c;
  c.name = "SERVERID";
  char buf[256];
  EXPECT_EQ(std::string(buf, format_set_cookie(c, "Local", buf, sizeof buf)),
            "SERVERID=Local; path=/");
  c.domains = {".example.com"};
  c.httponly = c.secure = true;
  EXPECT_EQ(std::string(buf, format_set_cookie(c, "s1", buf, sizeof buf)),
            "SERVERID=s1; path=/; domain=.example.com; HttpOnly; Secure");
}

bool cacheable(http::Method m, const std::string& response) {
  http::HeadParser p(http::Side::Response);
  p.set_request_method(m);
  auto r = p.parse(response);
  EXPECT_EQ(r.state, http::ParseState::Done);
  return response_cacheable(m, p.view(response));
}

TEST(Cookie, CacheabilityNeedsExplicitFreshness) {
  using http::Method;
  const std::string base = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
  EXPECT_FALSE(cacheable(Method::Get, base + "\r\n"));
  EXPECT_FALSE(cacheable(Method::Get, base + "Cache-Control: public\r\n\r\n"));
  EXPECT_TRUE(cacheable(Method::Get, base + "Cache-Control: max-age=60\r\n\r\n"));
  EXPECT_TRUE(cacheable(Method::Get, base + "Expires: Mon, 01 Jan 2030 00:00:00 GMT\r\n\r\n"));
  EXPECT_TRUE(cacheable(Method::Get, base + "Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n"));
  EXPECT_FALSE(cacheable(Method::Get, base + "Cache-Control: private, max-age=9\r\n\r\n"));
  EXPECT_FALSE(cacheable(Method::Get, base + "Cache-Control: no-cache\r\n\r\n"));
  EXPECT_FALSE(cacheable(Method::Post, base + "Cache-Control: max-age=60\r\n\r\n"));
  EXPECT_FALSE(cacheable(Method::Get,
                         "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nExpires: x\r\n\r\n"));
}

}  // namespace
}  // namespace sluice::httpmode
