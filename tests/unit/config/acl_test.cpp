// ACL lines, sample fetches and if/unless conditions.

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::joined;
using testing::load;
using V = std::vector<std::string>;

std::string fe(const std::string& body) {
  return "frontend f\n  bind :1\n" + body + "backend a\nbackend b\n";
}

TEST(ConfigAcl, DefinitionsFillTheModel) {
  auto r = load(fe(
      "  acl net src 10.0.0.0/8 192.168.0.0/255.255.0.0 ::1 2001:db8::/32\n"
      "  acl net src 172.16.0.0/12\n"
      "  acl hi dst_port gt 1024\n"
      "  acl ports src_port 80 443 1024:2048 :10 60000:\n"
      "  acl up srv_is_up(b/s1)\n"
      "  acl busy be_conn(b) ge 10\n"
      "  acl few nbsrv lt 2\n"
      "  acl conns fe_conn 3\n"
      "  acl slots connslots(a) 0\n"
      "  acl on always_true\n"
      "  acl ids fe_id 1\n"
      "  acl ids2 be_id 1\n"
      "  acl ids3 so_id 1\n"
      "  acl sc srv_conn(s1) 4\n"
      "  acl dstip dst -n 127.0.0.1\n"
      "  acl m src -m ip -- 10.1.1.1\n"));
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const Proxy& p = r.model.proxies[0];
  ASSERT_EQ(p.acls.size(), 15U);
  EXPECT_EQ(p.acls[0].name, "net");
  ASSERT_EQ(p.acls[0].defs.size(), 2U);  // same name: ORed definitions
  EXPECT_EQ(p.acls[0].defs[0].fetch, "src");
  EXPECT_EQ(p.acls[0].defs[0].matcher, "ip");
  EXPECT_EQ(p.acls[0].defs[0].patterns.size(), 4U);
  EXPECT_EQ(p.acls[0].defs[1].loc.line, 4);
  EXPECT_EQ(p.acls[1].defs[0].matcher, "int");
  EXPECT_EQ(p.acls[1].defs[0].patterns, (V{"gt", "1024"}));
  EXPECT_EQ(p.acls[3].defs[0].fetch, "srv_is_up");
  EXPECT_EQ(p.acls[3].defs[0].fetch_args, (V{"b/s1"}));
  EXPECT_EQ(p.acls[3].defs[0].matcher, "bool");
  EXPECT_EQ(p.acls[4].defs[0].fetch_args, (V{"b"}));
  EXPECT_TRUE(p.acls[13].defs[0].no_dns);
  EXPECT_EQ(p.acls[14].defs[0].patterns, (V{"10.1.1.1"}));
}

TEST(ConfigAcl, ShortFormsImplyTheMatcherAndNotYetFetchesAreNamed) {
  auto r = load(fe(
      "  acl h hdr_end(host) -i example.com\n"
      "  acl p path_beg /api\n"
      "  acl m method GET\n"
      "  acl s req.ssl_sni -i a.b\n"
      "  acl x payload(0,1) -m bin 16\n"
      "  use_backend a if h || p\n"));
  EXPECT_EQ(errors(r),
            (V{"t.cfg:6: [req.ssl_sni] sample fetch 'req.ssl_sni' is not implemented yet in Sluice",
               "t.cfg:7: [payload] sample fetch 'payload' is not implemented yet in Sluice"}));
  const Proxy& p = r.model.proxies[0];
  ASSERT_GE(p.acls.size(), 2U);  // still recorded: no cascade of "unknown ACL"
  EXPECT_EQ(p.acls[0].defs[0].fetch, "hdr_end");
  EXPECT_EQ(p.acls[0].defs[0].fetch_args, (V{"host"}));
  EXPECT_EQ(p.acls[0].defs[0].matcher, "end");
  EXPECT_TRUE(p.acls[0].defs[0].ignore_case);
  EXPECT_EQ(p.acls[1].defs[0].matcher, "beg");
}

TEST(ConfigAcl, Errors) {
  auto r = load(fe(
      "  acl\n"
      "  acl a\n"
      "  acl b scr 1.2.3.4\n"
      "  acl c src 1.2.3.4/99 \n"
      "  acl d src\n"
      "  acl e dst_port http\n"
      "  acl f src -m fuzzy x\n"
      "  acl g src -z 1.1.1.1\n"
      "  acl h src -f /nonexistent/file\n"
      "  acl i src(x) 1.1.1.1\n"
      "  acl j srv_is_up\n"
      "  acl k always_true 1\n"
      "  acl l src,ipmask(24) 10.0.0.0\n"
      "  acl m src( 1.1.1.1\n"
      "  acl bad!name src 1.1.1.1\n"
      "  acl n dst_port eq\n"
      "  acl o src -m\n"
      "  acl p src -M 1.1.1.1\n"));
  EXPECT_EQ(errors(r),
            (V{
                "t.cfg:3: [acl] 'acl' expects a name and a criterion (e.g. acl local src 127.0.0.1)",
                "t.cfg:4: [acl] 'acl' expects a name and a criterion (e.g. acl local src 127.0.0.1)",
                "t.cfg:5: [acl] unknown sample fetch 'scr' (did you mean 'src'?)",
                "t.cfg:6: [acl] expected an address like 10.0.0.0/8, got '1.2.3.4/99'",
                "t.cfg:7: [acl] missing pattern after 'src'",
                "t.cfg:8: [acl] expected an integer or a range like 1024:65535, got 'http'",
                "t.cfg:9: [acl] unknown match method 'fuzzy'",
                "t.cfg:10: [acl] unknown ACL flag '-z' (expected -i, -f, -m, -n or --)",
                "t.cfg:11: [acl] cannot open pattern file '/nonexistent/file'",
                "t.cfg:12: [acl] sample fetch 'src' expects no argument, got 1 argument(s)",
                "t.cfg:13: [acl] sample fetch 'srv_is_up' expects '[BACKEND/]SERVER', got 0 "
                "argument(s)",
                "t.cfg:15: [acl] converters (',ipmask(24)') are not implemented yet in Sluice",
                "t.cfg:16: [acl] missing ')' in 'src('",
                "t.cfg:17: [acl] invalid ACL name 'bad!name'",
                "t.cfg:18: [acl] operator 'eq' expects a number",
                "t.cfg:19: [acl] '-m' expects an argument",
                "t.cfg:20: [acl] ACL flag '-M' is not implemented yet in Sluice",
            }));
  EXPECT_EQ(testing::warnings(r),
            (V{"t.cfg:1: [frontend] missing timeouts for 'f': client (connections may hang "
               "without them)",
               "t.cfg:14: [acl] match method 'bool' ignores its patterns ('1'...)",
               "t.cfg:21: [backend] missing timeouts for 'a': connect, server (connections may "
               "hang without them)",
               "t.cfg:22: [backend] missing timeouts for 'b': connect, server (connections may "
               "hang without them)"}));
}

TEST(ConfigCondition, NamedNegatedOrAndAnonymous) {
  auto r = load(fe(
      "  acl local src 127.0.0.1\n"
      "  acl web dst_port 80\n"
      "  acl tls dst_port 443\n"
      "  use_backend a if local web || !tls or { src 10.0.0.0/8 } ! web\n"
      "  use_backend b unless !local\n"
      "  use_backend b if TRUE\n"
      "  use_backend b if FALSE || LOCALHOST\n"
      "  default_backend a\n"));
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const Proxy& p = r.model.proxies[0];
  ASSERT_EQ(p.use_backends.size(), 4U);
  const Condition& c = *p.use_backends[0].cond;
  EXPECT_FALSE(c.unless);
  EXPECT_EQ(c.loc.line, 6);
  ASSERT_EQ(c.any_of.size(), 3U);
  ASSERT_EQ(c.any_of[0].size(), 2U);  // local AND web
  EXPECT_EQ(c.any_of[0][0].name, "local");
  EXPECT_EQ(c.any_of[0][0].index, 0U);
  EXPECT_FALSE(c.any_of[0][0].negate);
  EXPECT_EQ(c.any_of[0][1].index, 1U);
  ASSERT_EQ(c.any_of[1].size(), 1U);
  EXPECT_TRUE(c.any_of[1][0].negate);
  EXPECT_EQ(c.any_of[1][0].index, 2U);
  ASSERT_EQ(c.any_of[2].size(), 2U);
  EXPECT_TRUE(c.any_of[2][0].anonymous);
  EXPECT_EQ(c.any_of[2][0].index, 0U);
  EXPECT_EQ(p.anonymous_acls[0].fetch, "src");
  EXPECT_EQ(p.anonymous_acls[0].patterns, (V{"10.0.0.0/8"}));
  EXPECT_TRUE(c.any_of[2][1].negate);  // "! web"
  EXPECT_EQ(c.any_of[2][1].name, "web");

  const Condition& c2 = *p.use_backends[1].cond;
  EXPECT_TRUE(c2.unless);
  EXPECT_TRUE(c2.any_of[0][0].negate);
  // Predefined ACLs become named ACLs of the proxy.
  const Condition& c3 = *p.use_backends[2].cond;
  EXPECT_EQ(p.acls[c3.any_of[0][0].index].name, "TRUE");
  EXPECT_EQ(p.acls[c3.any_of[0][0].index].defs[0].fetch, "always_true");
  const Condition& c4 = *p.use_backends[3].cond;
  EXPECT_EQ(p.acls[c4.any_of[1][0].index].defs[0].patterns, (V{"127.0.0.1/8"}));
}

TEST(ConfigCondition, Errors) {
  auto r = load(fe(
      "  acl local src 127.0.0.1\n"
      "  use_backend a if\n"
      "  use_backend a when local\n"
      "  use_backend a if locl\n"
      "  use_backend a if local ||\n"
      "  use_backend a if || local\n"
      "  use_backend a if { src 1.1.1.1\n"
      "  use_backend a if { }\n"
      "  use_backend a if local }\n"
      "  use_backend a if !\n"
      "  use_backend a if HTTP\n"
      "  use_backend a if { hdr(host) x }\n"
      "  use_backend a if later\n"
      "  acl later src 1.1.1.1\n"));
  EXPECT_EQ(errors(r),
            (V{
                "t.cfg:4: [use_backend] missing condition after 'if'",
                "t.cfg:5: [use_backend] expected 'if' or 'unless', got 'when'",
                "t.cfg:6: [use_backend] unknown ACL 'locl' (did you mean 'local'?)",
                "t.cfg:7: [use_backend] missing ACL after the last '||'",
                "t.cfg:8: [use_backend] missing ACL before '||'",
                "t.cfg:9: [use_backend] missing '}' to close the anonymous ACL",
                "t.cfg:10: [use_backend] empty anonymous ACL '{ }'",
                "t.cfg:11: [use_backend] unexpected '}' without '{'",
                "t.cfg:12: [use_backend] missing ACL name after '!'",
                "t.cfg:13: [use_backend] predefined ACL 'HTTP' is not implemented yet in Sluice",
                "t.cfg:15: [use_backend] unknown ACL 'later'",
            }));
}

}  // namespace
}  // namespace sluice::config
