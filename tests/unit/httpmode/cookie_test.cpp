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
  // `attr` values come last, in order (as haproxy 2.6 writes them).
  c.attrs = {"SameSite=Lax", "Foo=b c"};
  EXPECT_EQ(std::string(buf, format_set_cookie(c, "s1", buf, sizeof buf)),
            "SERVERID=s1; path=/; domain=.example.com; HttpOnly; Secure; SameSite=Lax; Foo=b c");
}

bool cacheable(http::Method m, const std::string& response) {
  http::HeadParser p(http::Side::Response);
  p.set_request_method(m);
  auto r = p.parse(response);
  EXPECT_EQ(r.state, http::ParseState::Done);
  return response_cacheable(m, p.view(response));
}

TEST(Cookie, RemovalCookieForAServerWithoutValue) {
  config::CookieDef c;
  c.name = "SRV";
  char buf[256];
  EXPECT_EQ(std::string(buf, format_remove_cookie(c, buf, sizeof buf)),
            "SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/");
  // The cookie's options follow, as on an inserted cookie; never dates.
  c.domains = {".a.com"};
  c.httponly = c.secure = true;
  c.attrs = {"SameSite=Lax"};
  c.maxidle = config::Millis(60000);
  EXPECT_EQ(std::string(buf, format_remove_cookie(c, buf, sizeof buf)),
            "SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=.a.com; HttpOnly; "
            "Secure; SameSite=Lax");
  EXPECT_EQ(format_remove_cookie(c, buf, 10), 0U);
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

namespace sluice::httpmode {
namespace {

TEST(CookieDates, EncodingMatchesHaproxy) {
  // Seen from haproxy 2.6 at t=1795438642: "awQ4N" ((t + 3) >> 2 in 5 base64 digits).
  char d[5];
  encode_date(date_units(1795438642), d);
  EXPECT_EQ(std::string(d, 5), "awQ4N");
  EXPECT_EQ(decode_date("awQ4N"), date_units(1795438642));
  EXPECT_EQ(decode_date("awQ4"), std::nullopt);
  EXPECT_EQ(decode_date("aw.4N"), std::nullopt);
}

TEST(CookieDates, AgeAndRefresh) {
  config::CookieDef c;
  c.name = "SRV";
  c.method = config::CookieDef::Method::Insert;
  c.maxidle = std::chrono::seconds(1800);
  c.maxlife = std::chrono::hours(8);
  const std::int64_t now = 1795438642;
  auto at = [](std::int64_t t) {
    char d[5];
    encode_date(date_units(t), d);
    return std::string(d, 5);
  };
  std::string fresh = "s1|" + at(now) + "|" + at(now);
  CookieValue v = parse_cookie_value(fresh);
  EXPECT_EQ(v.server, "s1");
  EXPECT_EQ(cookie_age(c, v, now), CookieAge::Valid);
  EXPECT_FALSE(cookie_needs_refresh(c, v, now));
  std::string idle = "s1|" + at(now - 60) + "|" + at(now - 60);
  EXPECT_TRUE(cookie_needs_refresh(c, parse_cookie_value(idle), now));
  std::string expired = "s1|" + at(now - 2000) + "|" + at(now - 3600);
  EXPECT_EQ(cookie_age(c, parse_cookie_value(expired), now), CookieAge::Expired);
  std::string old = "s1|" + at(now) + "|" + at(now - 9 * 3600);
  EXPECT_EQ(cookie_age(c, parse_cookie_value(old), now), CookieAge::Old);
  std::string future = "s1|" + at(now + 2 * 86400) + "|" + at(now);
  EXPECT_EQ(cookie_age(c, parse_cookie_value(future), now), CookieAge::Expired);
  CookieValue bare = parse_cookie_value("s1");
  EXPECT_EQ(cookie_age(c, bare, now), CookieAge::Valid);
  EXPECT_TRUE(cookie_needs_refresh(c, bare, now));
  char out[256];
  std::size_t n = format_set_cookie(c, "s1", out, sizeof out, now, v.first);
  EXPECT_EQ(std::string(out, n), "SRV=s1|" + at(now) + "|" + at(now) + "; path=/");
}

TEST(CookiePrefix, Unprefix) {
  char out[256];
  std::size_t n = unprefix_cookie("a=1; JSESSIONID=s1~abc; b=2", "JSESSIONID", out, sizeof out);
  EXPECT_EQ(std::string(out, n), "a=1; JSESSIONID=abc; b=2");
  n = unprefix_cookie("JSESSIONID=abc", "JSESSIONID", out, sizeof out);
  EXPECT_EQ(std::string(out, n), "JSESSIONID=abc");
}

}  // namespace
}  // namespace sluice::httpmode
