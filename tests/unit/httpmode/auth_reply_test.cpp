// The 401 of `http-request auth`: built-in or custom page, one challenge.
#include "httpmode/auth_reply.h"

#include <gtest/gtest.h>

#include <string>

#include "http/status.h"

namespace sluice::httpmode {
namespace {

std::string reply(const config::Proxy* be, const config::Proxy& fe, std::string_view realm,
                  std::size_t cap = 4096) {
  std::string out(cap, '\0');
  out.resize(write_auth_reply(be, fe, realm, out.data(), out.size()));
  return out;
}

TEST(AuthReply, BuiltInPageGetsTheChallengeLast) {
  config::Proxy fe;
  std::string page(http::error_response(401));
  std::string got = reply(nullptr, fe, "My Realm");
  auto end = page.find("\r\n\r\n");
  EXPECT_EQ(got, page.substr(0, end + 2) + "www-authenticate: Basic realm=\"My Realm\"\r\n\r\n" +
                     page.substr(end + 4));
  EXPECT_EQ(got.rfind("HTTP/1.1 401 Unauthorized\r\ncontent-length: ", 0), 0U);
}

TEST(AuthReply, CustomPageOfTheBackendFirstWithItsChallengesReplaced) {
  config::Proxy fe, be;
  config::ErrorPage p;
  p.head =
      "HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\nWWW-Authenticate: Negotiate\r\n"
      "x-custom: 1\r\nwww-authenticate: NTLM\r\ncontent-length: 6\r\n";
  p.body = "custom";
  be.error_pages[401] = p;
  config::ErrorPage other = p;
  other.body = "other!";
  fe.error_pages[401] = other;
  const std::string want =
      "HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\nx-custom: 1\r\n"
      "content-length: 6\r\nwww-authenticate: Basic realm=\"zz\"\r\n\r\n";
  EXPECT_EQ(reply(&be, fe, "zz"), want + "custom");
  EXPECT_EQ(reply(nullptr, fe, "zz"), want + "other!");  // no backend chosen yet
}

TEST(AuthReply, EmptyPageOrNoRoomGivesNothing) {
  config::Proxy fe;
  config::ErrorPage empty;
  empty.empty = true;
  fe.error_pages[401] = empty;
  EXPECT_EQ(reply(nullptr, fe, "r"), "");
  config::Proxy plain;
  EXPECT_EQ(reply(nullptr, plain, "r", 100), "");
}

}  // namespace
}  // namespace sluice::httpmode
