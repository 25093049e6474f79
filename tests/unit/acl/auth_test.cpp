// Basic credentials against userlists: decoding, crypt(3) hashes, the
// per-thread cache, and http_auth / http_auth_group in compiled conditions.
#include "acl/auth.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "acl/condition.h"
#include "acl/fetch.h"
#include "config/load.h"

namespace sluice::acl {
namespace {

// `openssl passwd -6|-5|-1 -salt abcdefgh secret`
constexpr const char* kSha512 =
    "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/"
    "O6IND4WQhG.";
constexpr const char* kSha256 = "$5$abcdefgh$gruCpC7VkOTspMQTTSAR8mtlO9Upms.fwqE5y16JVM.";
constexpr const char* kMd5 = "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1";

std::string b64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v =
        (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    for (int k = 3; k >= 0; --k) out += t[(v >> (6 * k)) & 63];
  }
  if (in.size() - i == 1) {
    unsigned v = (unsigned char)in[i] << 16;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string basic(std::string_view user, std::string_view pass) {
  return "Basic " + b64(std::string(user) + ":" + std::string(pass));
}

TEST(AuthBasic, DecodesUserAndPassword) {
  char buf[128];
  BasicCredentials c;
  ASSERT_TRUE(parse_basic(basic("alice", "p:w d"), buf, sizeof buf, c));
  EXPECT_EQ(c.user, "alice");
  EXPECT_EQ(c.password, "p:w d");  // split at the first ':'
  EXPECT_EQ(c.password.data()[c.password.size()], '\0');
  ASSERT_TRUE(parse_basic("bAsIc   " + b64("a:x"), buf, sizeof buf, c));  // any case, blanks
  EXPECT_EQ(c.user, "a");
  ASSERT_TRUE(parse_basic("Basic " + b64("a:"), buf, sizeof buf, c));
  EXPECT_EQ(c.password, "");
}

TEST(AuthBasic, RefusesWhatIsNotBasic) {
  char buf[64];
  BasicCredentials c;
  EXPECT_FALSE(parse_basic("Bearer " + b64("a:x"), buf, sizeof buf, c));
  EXPECT_FALSE(parse_basic("Basic", buf, sizeof buf, c));
  EXPECT_FALSE(parse_basic("Basic " + b64("nocolon"), buf, sizeof buf, c));
  EXPECT_FALSE(parse_basic("Basic !!!!", buf, sizeof buf, c));
  EXPECT_FALSE(parse_basic("Basic YTp4e", buf, sizeof buf, c));  // not a multiple of 4
  EXPECT_FALSE(parse_basic("Basic YT=4", buf, sizeof buf, c));   // padding inside
  EXPECT_FALSE(parse_basic(basic("a", std::string(100, 'x')), buf, sizeof buf, c));  // too long
}

config::LoadResult load(const std::string& text) {
  config::LoadOptions o;
  o.resolve_hostnames = false;
  return config::load_text(text, "t.cfg", o);
}

const std::string kUserlists = std::string(
                                   "userlist L\n"
                                   "  group admins users root\n"
                                   "  group staff\n"
                                   "  group nobody\n"
                                   "  user root insecure-password toor\n"
                                   "  user alice password ") +
                               kSha512 +
                               " groups staff\n"
                               "  user bob password " +
                               kSha256 +
                               " groups staff,admins\n"
                               "  user carol password " +
                               kMd5 +
                               "\n"
                               "  user dave\n"
                               "userlist M\n"
                               "  user root insecure-password other\n";

TEST(AuthCheck, ClearTextAndCryptHashes) {
  auto r = load(kUserlists);
  ASSERT_TRUE(r.ok());
  const config::UserlistDef& l = *r.model.find_userlist("L");
  EXPECT_NE(check_user(l, "root", "toor"), nullptr);
  EXPECT_EQ(check_user(l, "root", "toor2"), nullptr);
  EXPECT_EQ(check_user(l, "root", "too"), nullptr);
  EXPECT_NE(check_user(l, "alice", "secret"), nullptr);
  EXPECT_EQ(check_user(l, "alice", "Secret"), nullptr);
  EXPECT_NE(check_user(l, "bob", "secret"), nullptr);
  EXPECT_NE(check_user(l, "carol", "secret"), nullptr);
  EXPECT_EQ(check_user(l, "carol", ""), nullptr);
  EXPECT_EQ(check_user(l, "dave", ""), nullptr);  // no password: never
  EXPECT_EQ(check_user(l, "nobody", "secret"), nullptr);
  EXPECT_EQ(check_user(l, "ALICE", "secret"), nullptr);  // names are case-sensitive
  const std::string with_nul("secret\0tail", 11);
  EXPECT_EQ(check_user(l, "alice", with_nul), nullptr);
  EXPECT_EQ(check_user(*r.model.find_userlist("M"), "root", "toor"), nullptr);
}

TEST(AuthCheck, CryptRunsOncePerThreadForTheSameCredentials) {
  auto r = load(kUserlists);
  ASSERT_TRUE(r.ok());
  const config::UserlistDef& l = *r.model.find_userlist("L");
  std::thread([&] {  // a fresh thread: a fresh cache
    const std::size_t before = crypt_calls_this_thread();
    for (int i = 0; i < 5; ++i) EXPECT_NE(check_user(l, "alice", "secret"), nullptr);
    EXPECT_EQ(crypt_calls_this_thread() - before, 1U);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(check_user(l, "alice", "wrong"), nullptr);
    EXPECT_EQ(crypt_calls_this_thread() - before, 2U);   // failures are remembered too
    EXPECT_NE(check_user(l, "bob", "secret"), nullptr);  // another user: its own entry
    EXPECT_EQ(crypt_calls_this_thread() - before, 3U);
    EXPECT_NE(check_user(l, "alice", "secret"), nullptr);
    EXPECT_EQ(crypt_calls_this_thread() - before, 3U);
    EXPECT_NE(check_user(l, "root", "toor"), nullptr);  // clear text: no crypt
    EXPECT_EQ(crypt_calls_this_thread() - before, 3U);
  })
      .join();
}

// A request with fields, for the fetches.
class Request final : public SampleSource {
 public:
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<std::string_view> http_method() const override { return "GET"; }
  std::optional<std::string_view> http_target() const override { return "/"; }
  bool http_req_field(std::string_view name, std::size_t i, std::string_view& out) const override {
    for (const auto& [n, v] : fields)
      if (n == name && i-- == 0) {
        out = v;
        return true;
      }
    return false;
  }
};

struct Loaded {
  config::LoadResult r;
  const config::Proxy* fe = nullptr;
  bool eval(const std::string& acl_name, const Request& req) {
    config::Condition c;
    for (std::size_t i = 0; i < fe->acls.size(); ++i)
      if (fe->acls[i].name == acl_name) c.any_of = {{config::CondTerm{false, false, i, acl_name}}};
    auto cc = compile(*fe, c, CompileOptions{&r.model});
    EXPECT_TRUE(cc.ok()) << (cc.ok() ? "" : cc.error());
    return cc.ok() && cc->evaluate(req);
  }
};

Loaded load_fe(const std::string& acls) {
  Loaded l;
  l.r = load(kUserlists + "frontend fe\n  mode http\n  bind 127.0.0.1:8080\n" + acls +
             "  default_backend be\nbackend be\n  mode http\n  server s 127.0.0.1:1\n");
  EXPECT_TRUE(l.r.ok());
  l.fe = l.r.model.find_proxy("fe");
  return l;
}

TEST(AuthFetch, HttpAuthAndGroups) {
  auto l = load_fe(
      "  acl ok http_auth(L)\n"
      "  acl ok_m http_auth(M)\n"
      "  acl admin http_auth_group(L) admins\n"
      "  acl staff http_auth_group(L) staff nobody\n");
  Request none;
  Request root, alice, bob, wrong, first_wins;
  root.fields = {{"authorization", basic("root", "toor")}};
  alice.fields = {{"authorization", basic("alice", "secret")}};
  bob.fields = {{"authorization", basic("bob", "secret")}};
  wrong.fields = {{"authorization", basic("alice", "nope")}};
  first_wins.fields = {{"authorization", basic("alice", "nope")},
                       {"authorization", basic("alice", "secret")}};
  EXPECT_FALSE(l.eval("ok", none));
  EXPECT_TRUE(l.eval("ok", root));
  EXPECT_TRUE(l.eval("ok", alice));
  EXPECT_FALSE(l.eval("ok", wrong));
  EXPECT_FALSE(l.eval("ok", first_wins));
  EXPECT_FALSE(l.eval("ok_m", root));  // another list, another password
  // Membership from either side: `group admins users root`, `user bob groups staff,admins`.
  EXPECT_TRUE(l.eval("admin", root));
  EXPECT_TRUE(l.eval("admin", bob));
  EXPECT_FALSE(l.eval("admin", alice));
  EXPECT_FALSE(l.eval("staff", root));
  EXPECT_TRUE(l.eval("staff", alice));
  EXPECT_TRUE(l.eval("staff", bob));
  EXPECT_FALSE(l.eval("staff", wrong));
  EXPECT_FALSE(l.eval("staff", none));
}

TEST(AuthFetch, GroupFetchGivesTheUserName) {
  auto l = load_fe("");
  Request bob;
  bob.fields = {{"authorization", basic("bob", "secret")}};
  const FetchDef* d = find_fetch("http_auth_group");
  ASSERT_NE(d, nullptr);
  FetchArgs a;
  a.str = "L";
  ASSERT_TRUE(resolve_fetch_args(*d, a, CompileOptions{&l.r.model}).ok());
  Sample s;
  ASSERT_TRUE(d->fetch(bob, a, s));
  EXPECT_EQ(s.str, "bob");
  FetchArgs unknown;
  unknown.str = "Nope";
  EXPECT_FALSE(resolve_fetch_args(*d, unknown, CompileOptions{&l.r.model}).ok());
}

}  // namespace
}  // namespace sluice::acl
