// `userlist` sections, http_auth ACLs and `http-request auth`.

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::joined;
using testing::load;
using testing::warnings;

const std::string kFe =
    "frontend fe\n"
    "  mode http\n"
    "  timeout client 5s\n"
    "  bind 127.0.0.1:8080\n"
    "  default_backend be\n"
    "backend be\n"
    "  mode http\n"
    "  timeout connect 5s\n"
    "  timeout server 5s\n"
    "  server s1 127.0.0.1:8081\n";

TEST(ConfigUserlist, UsersGroupsAndMergedMembership) {
  auto r = load(
      "userlist L1\n"
      "  group G1 users tiger,scott\n"
      "  group G2 users xdb,scott\n"
      "  user tiger password $6$k6y3o.eP$JlKBx9za9667qe4xHSwRv6J.C0/D7cV91\n"
      "  user scott insecure-password elgato\n"
      "  user xdb insecure-password hello\n"
      "userlist L2\n"
      "  group G1\n"
      "  group G2\n"
      "  user tiger password $6$k6y3o.eP$JlKBx9za9667qe4xHSwRv6J.C0/D7cV91 groups G1\n"
      "  user scott insecure-password elgato groups G1,G2\n"
      "  user xdb insecure-password hello groups G2\n" +
      kFe);
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  ASSERT_EQ(r.model.userlists.size(), 2U);
  for (const auto& l : r.model.userlists) {
    ASSERT_EQ(l.users.size(), 3U) << l.name;
    EXPECT_EQ(l.users[0].groups, (std::vector<std::size_t>{0})) << l.name;
    EXPECT_EQ(l.users[1].groups, (std::vector<std::size_t>{0, 1})) << l.name;
    EXPECT_EQ(l.users[2].groups, (std::vector<std::size_t>{1})) << l.name;
    EXPECT_FALSE(l.users[0].insecure);
    EXPECT_TRUE(l.users[1].insecure);
    EXPECT_EQ(l.users[1].password, "elgato");
  }
  EXPECT_EQ(r.model.userlists[0].loc.line, 1);
  EXPECT_TRUE(warnings(r).empty()) << joined(warnings(r));
}

TEST(ConfigUserlist, CrossReferenceErrors) {
  auto r = load(
      "userlist L\n"
      "  group G users a,b\n"
      "  user a insecure-password x groups G,H\n" +
      kFe);
  EXPECT_EQ(
      errors(r),
      (std::vector<std::string>{
          "t.cfg:2: [group] userlist 'L': group 'G' names unknown user 'b' (did you mean 'a'?)",
          "t.cfg:3: [user] userlist 'L': user 'a' names unknown group 'H' (did you mean 'G'?)",
      }));
}

TEST(ConfigUserlist, DuplicatesAreIgnoredWithAWarningAsInHAProxy) {
  auto r = load(
      "userlist L\n"
      "  user a insecure-password first\n"
      "  user a insecure-password second\n"
      "  group G\n"
      "  group G users a\n"
      "userlist L\n"
      "  user b insecure-password x\n" +
      kFe);
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  EXPECT_EQ(warnings(r),
            (std::vector<std::string>{
                "t.cfg:3: [user] user 'a' is already defined in userlist 'L' at t.cfg:2; this "
                "one is ignored",
                "t.cfg:5: [group] group 'G' is already defined in userlist 'L' at t.cfg:4; this "
                "one is ignored",
                "t.cfg:6: [userlist] userlist 'L' is already defined at t.cfg:1; this one is "
                "ignored",
            }));
  ASSERT_EQ(r.model.userlists.size(), 1U);
  const auto& l = r.model.userlists[0];
  ASSERT_EQ(l.users.size(), 1U);
  EXPECT_EQ(l.users[0].password, "first");
  EXPECT_TRUE(l.users[0].groups.empty());
}

TEST(ConfigUserlist, SyntaxErrors) {
  auto r = load(
      "userlist\n"
      "  user\n"
      "  user a foo bar\n"
      "  user b password\n"
      "  group\n"
      "  group G members a\n"
      "  usr c insecure-password x\n"
      "  mode http\n" +
      kFe);
  EXPECT_EQ(errors(r),
            (std::vector<std::string>{
                "t.cfg:1: [userlist] 'userlist' expects a section name",
                "t.cfg:2: [user] 'user' expects a user name",
                "t.cfg:3: [user] unknown option 'foo' (expected 'password', "
                "'insecure-password' or 'groups')",
                "t.cfg:4: [user] 'password' expects a value",
                "t.cfg:5: [group] 'group' expects a group name",
                "t.cfg:6: [group] unknown option 'members' (expected 'users')",
                "t.cfg:7: [usr] unknown keyword 'usr' in userlist section (did you mean 'user'?)",
                "t.cfg:8: [mode] 'mode' is not valid in a userlist section",
            }));
}

TEST(ConfigUserlist, UsersThatCanNeverLogInAreWarnedAbout) {
  auto r = load(
      "userlist L\n"
      "  user nopass\n"
      "  user badhash password !locked\n"
      "  user twice insecure-password a password "
      "$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.\n" +
      kFe);
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  EXPECT_EQ(warnings(r),
            (std::vector<std::string>{
                "t.cfg:2: [user] user 'nopass' has no password and can never authenticate",
                "t.cfg:3: [user] the password of user 'badhash' is not a crypt(3) hash this "
                "system supports; it can never match",
                "t.cfg:4: [user] user 'twice' has two passwords; the last one is used",
            }));
  EXPECT_FALSE(r.model.userlists[0].users[2].insecure);
}

TEST(ConfigUserlist, AuthAclsNameAUserlistAndItsGroups) {
  auto r = load(
      "userlist L\n"
      "  group G\n"
      "  user a insecure-password x groups G\n"
      "frontend fe\n"
      "  mode http\n"
      "  bind 127.0.0.1:8080\n"
      "  acl ok http_auth(L)\n"
      "  acl bad http_auth(LL)\n"
      "  acl g http_auth_group(L) G H\n"
      "  acl none http_auth_group(L)\n"
      "  acl noarg http_auth\n"
      "  http-request auth if !ok || { http_auth(X) }\n"
      "  default_backend be\n"
      "backend be\n"
      "  mode http\n"
      "  server s1 127.0.0.1:8081\n");
  EXPECT_EQ(errors(r),
            (std::vector<std::string>{
                "t.cfg:8: [http_auth] unknown userlist 'LL' (did you mean 'L'?)",
                "t.cfg:9: [http_auth_group] unknown group 'H' in userlist 'L' (did you mean 'G'?)",
                "t.cfg:10: [acl] missing pattern after 'http_auth_group(L)'",
                "t.cfg:11: [acl] sample fetch 'http_auth' expects 'USERLIST', got 0 argument(s)",
                "t.cfg:12: [http_auth] unknown userlist 'X' (did you mean 'L'?)",
            }));
}

TEST(ConfigUserlist, UserlistMayFollowTheProxyUsingIt) {
  auto r = load(kFe +
                "frontend f2\n  mode http\n  bind 127.0.0.1:8082\n"
                "  http-request auth unless { http_auth_group(L) G }\n  default_backend be\n"
                "userlist L\n  group G users a\n  user a insecure-password x\n");
  EXPECT_TRUE(r.ok()) << joined(errors(r));
}

TEST(ConfigHttpAuth, RealmAndErrors) {
  auto r = load(
      "frontend fe\n"
      "  mode http\n"
      "  bind 127.0.0.1:8080\n"
      "  http-request auth\n"
      "  http-request auth realm \"My Realm\" if { path /x }\n"
      "  http-request auth realm\n"
      "  http-request auth foo\n"
      "  http-request auth realm a b\n"
      "  http-response auth\n"
      "  default_backend be\n"
      "backend be\n"
      "  mode http\n"
      "  server s1 127.0.0.1:8081\n");
  EXPECT_EQ(
      errors(r),
      (std::vector<std::string>{
          "t.cfg:6: [http-request] 'realm' expects a value",
          "t.cfg:7: [http-request] unexpected argument 'foo' ('http-request auth' "
          "expects [realm REALM])",
          "t.cfg:8: [http-request] unexpected argument 'b' ('http-request auth' expects "
          "[realm REALM])",
          "t.cfg:9: [http-response] action 'auth' is a request action: not valid in "
          "'http-response'",
      }));
  const Proxy* fe = r.model.find_proxy("fe");
  ASSERT_NE(fe, nullptr);
  ASSERT_EQ(fe->http_request_rules.size(), 2U);
  EXPECT_EQ(fe->http_request_rules[0].action, HttpRule::Action::Auth);
  EXPECT_EQ(fe->http_request_rules[0].realm, "");
  EXPECT_EQ(fe->http_request_rules[1].realm, "My Realm");
  EXPECT_TRUE(fe->http_request_rules[1].cond.has_value());
}

}  // namespace
}  // namespace sluice::config
