#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "acl/condition.h"
#include "alloc_counter.h"
#include "fake_source.h"

namespace sluice::acl {
namespace {

using testing::FakeSource;

// A proxy whose named ACLs are built by hand; conditions refer to them by name.
struct Fixture {
  config::Proxy proxy;

  Fixture& acl(const std::string& name, const std::string& fetch, std::vector<std::string> patterns,
               std::string matcher = "", bool icase = false, std::vector<std::string> args = {},
               std::vector<std::string> files = {}) {
    config::AclDef d;
    d.name = name;
    d.fetch = fetch;
    d.fetch_args = std::move(args);
    d.matcher = std::move(matcher);
    d.ignore_case = icase;
    d.patterns = std::move(patterns);
    d.pattern_files = std::move(files);
    d.loc = {"test.cfg", 7};
    for (auto& n : proxy.acls) {
      if (n.name == name) {
        n.defs.push_back(d);
        return *this;
      }
    }
    proxy.acls.push_back({name, {d}});
    return *this;
  }

  // "a !b || c" style: words, "||" separates groups, "!" prefix negates.
  config::Condition cond(const std::string& text, bool unless = false) const {
    config::Condition c;
    c.unless = unless;
    c.any_of.emplace_back();
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto end = text.find(' ', pos);
      if (end == std::string::npos) end = text.size();
      std::string w = text.substr(pos, end - pos);
      pos = end + 1;
      if (w.empty()) continue;
      if (w == "||" || w == "or") {
        c.any_of.emplace_back();
        continue;
      }
      config::CondTerm t;
      if (w[0] == '!') {
        t.negate = true;
        w = w.substr(1);
      }
      t.name = w;
      t.index = proxy.acls.size();  // unknown unless found
      for (std::size_t i = 0; i < proxy.acls.size(); ++i)
        if (proxy.acls[i].name == w) t.index = i;
      c.any_of.back().push_back(t);
    }
    return c;
  }

  CompiledCondition compiled(const std::string& text, bool unless = false) const {
    auto r = compile(proxy, cond(text, unless));
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? std::move(*r) : CompiledCondition{};
  }

  std::string error(const std::string& text) const {
    auto r = compile(proxy, cond(text));
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error();
  }
};

// One ACL line on its own: does `fetch patterns` match the source?
bool matches(const FakeSource& src, const std::string& fetch, std::vector<std::string> patterns,
             std::string matcher = "", bool icase = false, std::vector<std::string> args = {}) {
  Fixture f;
  f.acl("x", fetch, std::move(patterns), std::move(matcher), icase, std::move(args));
  return f.compiled("x").evaluate(src);
}

FakeSource from(const char* ip, std::uint16_t port = 40000) {
  FakeSource s;
  s.set_src(ip, port);
  s.set_dst("192.0.2.10", 443);
  return s;
}

// ------------------------------------------------------------ ip

TEST(MatchIp, Ipv4AddressesAndNetworks) {
  auto s = from("10.1.2.3");
  EXPECT_TRUE(matches(s, "src", {"10.1.2.3"}));
  EXPECT_FALSE(matches(s, "src", {"10.1.2.4"}));
  EXPECT_TRUE(matches(s, "src", {"192.168.0.0/16", "10.0.0.0/8"}));
  EXPECT_TRUE(matches(s, "src", {"10.1.2.0/24"}));
  EXPECT_FALSE(matches(s, "src", {"10.1.3.0/24"}));
  EXPECT_TRUE(matches(s, "src", {"10.1.0.0/255.255.0.0"}));
  EXPECT_TRUE(matches(s, "src", {"0.0.0.0/0"}));
  EXPECT_TRUE(matches(from("127.0.0.1"), "src", {"127.1"}));  // abbreviated form
  EXPECT_TRUE(matches(from("10.0.0.12"), "src", {"10.12"}));
  EXPECT_TRUE(matches(s, "dst", {"192.0.2.0/24"}));
}

TEST(MatchIp, Ipv6AddressesAndNetworks) {
  auto s = from("2001:db8::1");
  EXPECT_TRUE(matches(s, "src", {"2001:db8::1"}));
  EXPECT_TRUE(matches(s, "src", {"2001:db8::/32"}));
  EXPECT_FALSE(matches(s, "src", {"2001:db9::/32"}));
  EXPECT_FALSE(matches(s, "src", {"10.0.0.0/8"}));
  EXPECT_TRUE(matches(s, "src", {"2001:db8::/127"}));
  EXPECT_FALSE(matches(s, "src", {"2001:db8::/128"}));
}

TEST(MatchIp, MixedFamilies) {
  // IPv4-mapped, IPv4-compatible and 6to4 samples match IPv4 patterns.
  EXPECT_TRUE(matches(from("::ffff:10.1.2.3"), "src", {"10.0.0.0/8"}));
  EXPECT_TRUE(matches(from("::10.1.2.3"), "src", {"10.1.2.3"}));
  EXPECT_TRUE(matches(from("2002:a01:203::"), "src", {"10.1.2.3"}));
  EXPECT_FALSE(matches(from("2001:db8::a01:203"), "src", {"10.1.2.3"}));
  // IPv4 samples match IPv6 patterns as ::ffff:a.b.c.d.
  EXPECT_TRUE(matches(from("10.1.2.3"), "src", {"::ffff:0:0/96"}));
  EXPECT_TRUE(matches(from("10.1.2.3"), "src", {"::ffff:10.1.2.3"}));
  EXPECT_FALSE(matches(from("10.1.2.3"), "src", {"2001:db8::/32"}));
}

TEST(MatchIp, BadPatternsAreErrors) {
  Fixture f;
  f.acl("x", "src", {"10.0.0.0/33"});
  EXPECT_NE(f.error("x").find("mask"), std::string::npos);
  Fixture g;
  g.acl("x", "src", {"2001:db8::/129"});
  EXPECT_FALSE(compile(g.proxy, g.cond("x")).ok());
  Fixture h;
  config::AclDef d;
  d.name = "x";
  d.fetch = "src";
  d.no_dns = true;
  d.patterns = {"not-an-address"};
  h.proxy.acls.push_back({"x", {d}});
  EXPECT_NE(h.error("x").find("not a valid"), std::string::npos);
}

TEST(MatchIp, NoSourceAddressIsNoMatch) {
  FakeSource s;  // e.g. a UNIX socket client
  EXPECT_FALSE(matches(s, "src", {"0.0.0.0/0"}));
  Fixture f;
  f.acl("x", "src", {"0.0.0.0/0"});
  EXPECT_TRUE(f.compiled("!x").evaluate(s));
}

// ------------------------------------------------------------ int

TEST(MatchInt, ValuesRangesAndOperators) {
  auto s = from("10.0.0.1", 8080);
  EXPECT_TRUE(matches(s, "src_port", {"80", "8080"}));
  EXPECT_FALSE(matches(s, "src_port", {"80", "443"}));
  EXPECT_TRUE(matches(s, "src_port", {"1024:65535"}));
  EXPECT_TRUE(matches(s, "src_port", {"1024:"}));
  EXPECT_FALSE(matches(s, "src_port", {":1023"}));
  EXPECT_TRUE(matches(s, "src_port", {"8080:8080"}));
  EXPECT_TRUE(matches(s, "src_port", {"eq", "8080"}));
  EXPECT_TRUE(matches(s, "src_port", {"ge", "8080"}));
  EXPECT_FALSE(matches(s, "src_port", {"gt", "8080"}));
  EXPECT_TRUE(matches(s, "src_port", {"le", "8080"}));
  EXPECT_FALSE(matches(s, "src_port", {"lt", "8080"}));
  EXPECT_TRUE(matches(s, "src_port", {"lt", "9000"}));
  EXPECT_TRUE(matches(s, "src_port", {"gt", "9000", "100"}));  // the operator is sticky
  EXPECT_TRUE(matches(s, "dst_port", {"443"}));
}

TEST(MatchInt, NegativeValuesAndErrors) {
  FakeSource s;
  s.be_conns[""] = -1;
  EXPECT_TRUE(matches(s, "be_conn", {"lt", "0"}));
  for (auto bad :
       std::vector<std::vector<std::string>>{{"abc"}, {"5:2"}, {"gt", "1:3"}, {"ge"}, {"1:x"}}) {
    Fixture f;
    f.acl("x", "be_conn", bad);
    EXPECT_FALSE(compile(f.proxy, f.cond("x")).ok()) << bad[0];
  }
}

TEST(MatchInt, CountersAndIds) {
  FakeSource s;
  s.fe_conns[""] = 120;
  s.be_conns["app"] = 3;
  s.nbsrv["app"] = 1;
  s.slots[""] = 40;
  s.fe_id = 1;
  s.be_id = 4;
  EXPECT_TRUE(matches(s, "fe_conn", {"gt", "100"}));
  EXPECT_TRUE(matches(s, "be_conn", {"3"}, "", false, {"app"}));
  EXPECT_FALSE(matches(s, "be_conn", {"3"}));  // current backend unknown: no sample
  EXPECT_TRUE(matches(s, "nbsrv", {"lt", "2"}, "", false, {"app"}));
  EXPECT_TRUE(matches(s, "connslots", {"10:"}));
  EXPECT_TRUE(matches(s, "fe_id", {"1"}));
  EXPECT_TRUE(matches(s, "be_id", {"4"}));
}

TEST(MatchInt, NoPatternNeverMatches) {
  FakeSource s;
  s.fe_conns[""] = 5;
  EXPECT_FALSE(matches(s, "fe_conn", {}));
}

// ------------------------------------------------------------ bool / found

TEST(MatchBool, BooleansAndIntegers) {
  FakeSource s;
  s.srv_up["app/web1"] = true;
  s.srv_up["app/web2"] = false;
  s.fe_conns[""] = 0;
  s.be_conns[""] = 7;
  EXPECT_TRUE(matches(s, "always_true", {}));
  EXPECT_FALSE(matches(s, "always_false", {}));
  EXPECT_TRUE(matches(s, "srv_is_up", {}, "", false, {"app/web1"}));
  EXPECT_FALSE(matches(s, "srv_is_up", {}, "", false, {"app/web2"}));
  EXPECT_FALSE(matches(s, "srv_is_up", {}, "", false, {"app/web3"}));  // unknown: no sample
  EXPECT_FALSE(matches(s, "fe_conn", {}, "bool"));
  EXPECT_TRUE(matches(s, "be_conn", {}, "bool"));
  EXPECT_TRUE(matches(s, "always_true", {"1"}, "int"));
  EXPECT_TRUE(matches(s, "always_false", {"0"}, "int"));
}

TEST(MatchFound, SampleExists) {
  FakeSource s;
  s.fe_conns[""] = 0;
  EXPECT_TRUE(matches(s, "fe_conn", {}, "found"));
  EXPECT_FALSE(matches(s, "be_conn", {}, "found"));
  EXPECT_FALSE(matches(FakeSource{}, "src", {}, "found"));
  EXPECT_TRUE(matches(from("10.0.0.1"), "src", {}, "found"));
}

// ------------------------------------------------------------ strings

TEST(MatchStr, ConvertedSamples) {
  auto s = from("10.20.30.40", 8080);
  EXPECT_TRUE(matches(s, "src", {"10.20.30.40"}, "str"));
  EXPECT_TRUE(matches(s, "src", {"10.20."}, "beg"));
  EXPECT_TRUE(matches(s, "src", {".40"}, "end"));
  EXPECT_TRUE(matches(s, "src", {"20.30"}, "sub"));
  EXPECT_FALSE(matches(s, "src", {"20.31"}, "sub"));
  EXPECT_TRUE(matches(s, "src_port", {"8080"}, "str"));
  EXPECT_TRUE(matches(s, "src_port", {"80"}, "beg"));
  EXPECT_TRUE(matches(s, "src_port", {"4"}, "len"));
  EXPECT_TRUE(matches(s, "src", {"ge", "11"}, "len"));
  EXPECT_TRUE(matches(from("2001:db8::1"), "src", {"2001:DB8::"}, "beg", true));
  EXPECT_FALSE(matches(from("2001:db8::1"), "src", {"2001:DB8::"}, "beg", false));
}

// L4 fetches have no string output yet: string matchers run on `src`
// converted to text (inet_ntop writes IPv6 in lower case).
TEST(MatchStr, IgnoreCase) {
  auto s = from("fe80::abcd");
  EXPECT_FALSE(matches(s, "src", {"FE80::ABCD"}, "str"));
  EXPECT_TRUE(matches(s, "src", {"FE80::ABCD"}, "str", true));
  EXPECT_TRUE(matches(s, "src", {"ABCD"}, "end", true));
  EXPECT_TRUE(matches(s, "src", {"80::A"}, "sub", true));
  EXPECT_FALSE(matches(s, "src", {"80::A"}, "sub", false));
}

TEST(MatchStr, DomainAndDirectoryWords) {
  // "10.20.30.40" has dot-delimited words 10, 20, 30, 40.
  auto s = from("10.20.30.40");
  EXPECT_TRUE(matches(s, "src", {"20"}, "dom"));
  EXPECT_TRUE(matches(s, "src", {"20.30"}, "dom"));
  EXPECT_TRUE(matches(s, "src", {".40."}, "dom"));  // outer delimiters ignored
  EXPECT_FALSE(matches(s, "src", {"0.3"}, "dom"));
  EXPECT_FALSE(matches(s, "src", {"2"}, "dom"));
  EXPECT_FALSE(matches(s, "src", {"20"}, "dir"));  // no slash: the whole string only
  EXPECT_TRUE(matches(s, "src", {"10.20.30.40"}, "dir"));
  // "::1" has colon-delimited words for dom.
  EXPECT_TRUE(matches(from("2001:db8::1"), "src", {"db8"}, "dom"));
}

TEST(MatchReg, RegexesCompiledOnce) {
  auto s = from("10.20.30.40");
  EXPECT_TRUE(matches(s, "src", {"^10\\.20\\."}, "reg"));
  EXPECT_FALSE(matches(s, "src", {"^20"}, "reg"));
  EXPECT_TRUE(matches(s, "src", {"^20", "4[0-9]$"}, "reg"));
  EXPECT_TRUE(matches(from("fe80::abcd"), "src", {"ABCD$"}, "reg", true));
  EXPECT_FALSE(matches(from("fe80::abcd"), "src", {"ABCD$"}, "reg", false));
  Fixture f;
  f.acl("x", "src", {"(unclosed"}, "reg");
  EXPECT_NE(f.error("x").find("regex '(unclosed'"), std::string::npos);
}

// ------------------------------------------------------------ pattern files

class PatternFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-acl-XXXXXX";
    const int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  std::string path_;
};

TEST_F(PatternFile, OnePatternPerLineCommentsAndBlanksSkipped) {
  write("# trusted networks\n\n   10.0.0.0/8\n\t192.168.0.0/16\r\n# 172.16.0.0/12\n");
  Fixture f;
  f.acl("trusted", "src", {"203.0.113.7"}, "", false, {}, {path_});
  auto c = f.compiled("trusted");
  EXPECT_TRUE(c.evaluate(from("10.9.9.9")));
  EXPECT_TRUE(c.evaluate(from("192.168.1.1")));
  EXPECT_TRUE(c.evaluate(from("203.0.113.7")));  // inline patterns add to the file's
  EXPECT_FALSE(c.evaluate(from("172.16.0.1")));  // commented out
}

TEST_F(PatternFile, StringPatternsWithIgnoreCase) {
  write("FE80::1\n2001:DB8::\n");
  Fixture f;
  f.acl("x", "src", {}, "beg", true, {}, {path_});
  EXPECT_TRUE(f.compiled("x").evaluate(from("2001:db8::5")));
}

TEST_F(PatternFile, MissingFileIsAnError) {
  Fixture f;
  f.acl("x", "src", {}, "", false, {}, {path_ + ".missing"});
  const auto err = f.error("x");
  EXPECT_NE(err.find("cannot open pattern file"), std::string::npos) << err;
  EXPECT_NE(err.find("test.cfg:7"), std::string::npos) << err;
}

// ------------------------------------------------------------ conditions

TEST(Condition, AndOrNegationUnless) {
  Fixture f;
  f.acl("lan", "src", {"10.0.0.0/8"})
      .acl("https", "dst_port", {"443"})
      .acl("high", "src_port", {"ge", "50000"})
      .acl("yes", "always_true", {})
      .acl("no", "always_false", {});
  auto lan_https = from("10.1.1.1", 40000);
  auto wan_https = from("8.8.8.8", 60000);
  EXPECT_TRUE(f.compiled("lan https").evaluate(lan_https));
  EXPECT_FALSE(f.compiled("lan https").evaluate(wan_https));
  EXPECT_TRUE(f.compiled("lan !high").evaluate(lan_https));
  EXPECT_FALSE(f.compiled("!lan !high").evaluate(wan_https));
  EXPECT_TRUE(f.compiled("lan || high").evaluate(wan_https));
  EXPECT_TRUE(f.compiled("no || no || yes").evaluate(wan_https));
  EXPECT_FALSE(f.compiled("no || yes no").evaluate(wan_https));
  EXPECT_FALSE(f.compiled("lan https", true).evaluate(lan_https));  // unless
  EXPECT_TRUE(f.compiled("lan https", true).evaluate(wan_https));
  EXPECT_TRUE(f.compiled("!yes or !no", false).evaluate(wan_https));
  EXPECT_FALSE(f.compiled("!yes or !no", true).evaluate(wan_https));
}

TEST(Condition, SameNameLinesAreOred) {
  Fixture f;
  f.acl("site_dead", "nbsrv", {"lt", "2"}, "", false, {"dynamic"})
      .acl("site_dead", "nbsrv", {"lt", "2"}, "", false, {"static"});
  FakeSource s;
  s.nbsrv["dynamic"] = 4;
  s.nbsrv["static"] = 1;
  EXPECT_TRUE(f.compiled("site_dead").evaluate(s));
  s.nbsrv["static"] = 3;
  EXPECT_FALSE(f.compiled("site_dead").evaluate(s));
}

TEST(Condition, AnonymousAcls) {
  Fixture f;
  config::AclDef d;
  d.fetch = "src";
  d.patterns = {"127.0.0.1"};
  f.proxy.anonymous_acls.push_back(d);
  config::Condition c;
  c.any_of = {{config::CondTerm{false, true, 0, "{ src 127.0.0.1 }"}}};
  auto r = compile(f.proxy, c);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->evaluate(from("127.0.0.1")));
  EXPECT_FALSE(r->evaluate(from("127.0.0.2")));
}

TEST(Condition, EmptyConditionIsTrue) {
  EXPECT_TRUE(CompiledCondition{}.evaluate(FakeSource{}));
}

TEST(Condition, EvaluationDoesNotAllocate) {
  Fixture f;
  f.acl("lan", "src", {"10.0.0.0/8", "2001:db8::/32"})
      .acl("port", "dst_port", {"80", "443", "1000:2000"})
      .acl("re", "src", {"^10\\."}, "reg")
      .acl("txt", "src", {"10.1.1.1", "10.1.1.2"}, "str", true)
      .acl("dom", "src", {"1"}, "dom")
      .acl("up", "srv_is_up", {}, "", false, {"app/web1"});
  auto c = f.compiled("lan port re txt dom || !up");
  auto s = from("10.1.1.1", 1234);
  s.srv_up["app/web1"] = true;
  ASSERT_TRUE(c.evaluate(s));  // warms the per-thread regex match data
  {
    const long probe = sluice::testing::allocations();
    auto p = std::make_unique<int>(1);
    ASSERT_GT(sluice::testing::allocations(), probe);  // the counter does count
  }
  const long before = sluice::testing::allocations();
  bool r = true;
  for (int i = 0; i < 1000; ++i) r = r && c.evaluate(s);
  EXPECT_EQ(sluice::testing::allocations() - before, 0);
  EXPECT_TRUE(r);
}

// ------------------------------------------------------------ compile errors

TEST(Compile, UnknownAndUnimplementedFetches) {
  Fixture f;
  f.acl("a", "req.ssl_sni", {"example.com"});
  EXPECT_NE(f.error("a").find("fetch 'req.ssl_sni' is not implemented yet"), std::string::npos);
  Fixture g;
  g.acl("a", "scr", {"10.0.0.1"});
  const auto err = g.error("a");
  EXPECT_NE(err.find("unknown fetch 'scr'"), std::string::npos) << err;
  EXPECT_NE(err.find("did you mean 'src'"), std::string::npos) << err;
  EXPECT_NE(err.find("test.cfg:7: acl 'a'"), std::string::npos) << err;
}

TEST(Compile, MatcherErrors) {
  Fixture f;
  f.acl("a", "src", {"x"}, "nope");
  EXPECT_NE(f.error("a").find("unknown match method '-m nope'"), std::string::npos);
  Fixture g;
  g.acl("a", "src_port", {"10.0.0.1"}, "ip");
  EXPECT_NE(g.error("a").find("cannot be used"), std::string::npos);
  Fixture h;
  h.acl("a", "src", {}, "bool");
  EXPECT_FALSE(compile(h.proxy, h.cond("a")).ok());
}

TEST(Compile, FetchArguments) {
  Fixture f;
  f.acl("a", "src", {"10.0.0.1"}, "", false, {"x"});
  EXPECT_NE(f.error("a").find("takes no argument"), std::string::npos);
  Fixture g;
  g.acl("a", "srv_conn", {"1"}, "", false, {"web1"});
  EXPECT_NE(g.error("a").find("<backend>/<server>"), std::string::npos);
  Fixture h;
  h.acl("a", "be_conn", {"1"}, "", false, {"x", "y"});
  EXPECT_FALSE(compile(h.proxy, h.cond("a")).ok());
  Fixture u;
  u.acl("a", "src", {"1.2.3.4"});
  EXPECT_NE(u.error("nosuch").find("unknown acl 'nosuch'"), std::string::npos);
}

TEST(Compile, NamesResolvedAgainstTheModel) {
  config::Model model;
  config::Proxy app;
  app.name = "app";
  app.id = 3;
  app.cap = config::ProxyCap::Backend;
  config::ServerDef web1;
  web1.name = "web1";
  web1.id = 2;
  app.servers.push_back(web1);
  model.proxies.push_back(app);

  Fixture f;
  f.acl("busy", "srv_conn", {"gt", "10"}, "", false, {"app/web1"});
  auto r = compile(f.proxy, f.cond("busy"), {&model});
  ASSERT_TRUE(r.ok()) << r.error();
  FakeSource s;
  s.srv_conns["app/web1"] = 11;
  EXPECT_TRUE(r->evaluate(s));
  EXPECT_EQ(s.last_proxy_id, 3);
  EXPECT_EQ(s.last_server_id, 2);

  Fixture g;
  g.acl("x", "srv_conn", {"1"}, "", false, {"app/web9"});
  auto bad = compile(g.proxy, g.cond("x"), {&model});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("no server 'web9' in backend 'app'"), std::string::npos);
  Fixture h;
  h.acl("x", "nbsrv", {"1"}, "", false, {"nope"});
  auto bad2 = compile(h.proxy, h.cond("x"), {&model});
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.error().find("no proxy named 'nope'"), std::string::npos);
}

TEST(Compile, ValidateAllAclsOfAProxy) {
  Fixture f;
  f.acl("ok", "src", {"10.0.0.0/8"}).acl("unused_bad", "dst_port", {"eighty"});
  EXPECT_FALSE(validate_acls(f.proxy).ok());
  Fixture g;
  g.acl("ok", "src", {"10.0.0.0/8"});
  EXPECT_TRUE(validate_acls(g.proxy).ok());
}

}  // namespace
}  // namespace sluice::acl
