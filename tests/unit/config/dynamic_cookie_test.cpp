// `cookie ... dynamic`, `dynamic-cookie-key` and `cookie ... attr`: parsing,
// the errors an operator sees, and the values haproxy 2.6 gives the same
// servers (read from its Set-Cookie headers).

#include <gtest/gtest.h>

#include "config/parser.h"
#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::load;
using V = std::vector<std::string>;

const ServerDef& server(const LoadResult& r, std::size_t proxy, std::size_t i) {
  return r.model.proxies.at(proxy).servers.at(i);
}

TEST(ConfigDynamicCookie, ServersWithoutCookieGetHaproxysValue) {
  auto r = load(
      "defaults\n  mode http\n  dynamic-cookie-key mysecret\n"
      "backend b\n  cookie SRV insert dynamic\n"
      "  server s1 127.0.0.1:19101\n"
      "  server s2 127.0.0.1:19102\n"
      "  server s3 [::1]:19105\n"
      "  server own 127.0.0.1:19103 cookie mine\n");
  ASSERT_TRUE(r.ok()) << testing::joined(errors(r));
  EXPECT_TRUE(r.model.proxies[0].cookie.dynamic);
  EXPECT_EQ(r.model.proxies[0].dynamic_cookie_key, "mysecret");
  EXPECT_EQ(server(r, 0, 0).cookie, "4cb10c58513135c9");
  EXPECT_EQ(server(r, 0, 1).cookie, "71b5e08b6e82eb13");
  EXPECT_EQ(server(r, 0, 2).cookie, "df5c1bab9d6414e7");
  EXPECT_EQ(server(r, 0, 3).cookie, "mine");  // a written cookie wins
}

TEST(ConfigDynamicCookie, NothingWithoutKeyOrDynamic) {
  auto r = load(
      "backend nokey\n  mode http\n  cookie SRV insert dynamic\n  server s1 127.0.0.1:1\n"
      "backend nodyn\n  mode http\n  cookie SRV insert\n  dynamic-cookie-key k\n"
      "  server s1 127.0.0.1:1\n");
  ASSERT_TRUE(r.ok()) << testing::joined(errors(r));
  EXPECT_EQ(server(r, 0, 0).cookie, "");
  EXPECT_EQ(server(r, 1, 0).cookie, "");
}

TEST(ConfigDynamicCookie, ValueIsKeyAddressAndPort) {
  Address a;
  auto& in = reinterpret_cast<sockaddr_in&>(a.storage);
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in.sin_port = htons(19101);
  EXPECT_EQ(dynamic_cookie_value("mysecret", a), "4cb10c58513135c9");
  EXPECT_NE(dynamic_cookie_value("othersecret", a), "4cb10c58513135c9");
  in.sin_port = htons(19102);
  EXPECT_EQ(dynamic_cookie_value("mysecret", a), "71b5e08b6e82eb13");
  a.storage.ss_family = AF_UNIX;
  EXPECT_EQ(dynamic_cookie_value("mysecret", a), "");
}

TEST(ConfigDynamicCookie, AttrIsRepeatableAndChecked) {
  auto r = load(
      "backend b\n  mode http\n"
      "  cookie SRV insert attr \"SameSite=Strict\" attr Partitioned httponly\n"
      "  server s1 127.0.0.1:1 cookie a\n");
  ASSERT_TRUE(r.ok()) << testing::joined(errors(r));
  EXPECT_EQ(r.model.proxies[0].cookie.attrs, (V{"SameSite=Strict", "Partitioned"}));
  EXPECT_TRUE(r.model.proxies[0].cookie.httponly);

  auto bad = load(
      "backend b\n  mode http\n  cookie SRV insert attr\n  cookie SRV insert attr \"a\\tb\"\n"
      "  dynamic-cookie-key\n  dynamic-cookie-key a b\n  cookie SRV insert dynamc\n"
      "  server s1 127.0.0.1:1\n");
  auto e = errors(bad);
  ASSERT_EQ(e.size(), 5U) << testing::joined(e);
  EXPECT_EQ(e[0], "t.cfg:3: [cookie] 'cookie' option 'attr' expects a value");
  EXPECT_NE(e[1].find("t.cfg:4: [cookie] 'cookie' option 'attr': the value"), std::string::npos)
      << e[1];
  EXPECT_NE(e[2].find("t.cfg:5: [dynamic-cookie-key]"), std::string::npos) << e[2];
  EXPECT_NE(e[3].find("t.cfg:6: [dynamic-cookie-key]"), std::string::npos) << e[3];
  EXPECT_EQ(e[4], "t.cfg:7: [cookie] unknown 'cookie' option 'dynamc' (did you mean 'dynamic'?)");
}

TEST(ConfigDynamicCookie, KeywordPlacement) {
  auto r = load("frontend f\n  bind :1\n  dynamic-cookie-key k\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(errors(r)[0].find("t.cfg:3: [dynamic-cookie-key]"), std::string::npos) << errors(r)[0];
}

}  // namespace
}  // namespace sluice::config
