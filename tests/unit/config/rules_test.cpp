// http-request / http-response rules, log-format and captures: what the
// loader keeps, and the errors an operator sees for malformed rules.

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::load;
using V = std::vector<std::string>;

const Proxy& first_proxy(const LoadResult& r) { return r.model.proxies.at(0); }

TEST(ConfigRules, RequestRulesKeepTheirArguments) {
  auto r = load(
      "frontend f\n"
      "  bind :1\n"
      "  timeout client 1s\n"
      "  acl api path_beg /api\n"
      "  http-request deny deny_status 403 if api\n"
      "  http-request redirect prefix /new code 301 drop-query if { path_beg /old }\n"
      "  http-request return status 404 content-type text/plain string gone unless api\n"
      "  http-request set-header X-Client %[src]\n"
      "  http-request del-header X-Debug -m beg\n"
      "  http-request replace-value X-Forwarded-For ^(.*)$ <\\1>\n"
      "  http-response set-header X-Via sluice\n"
      "  reqadd X-Legacy:\\ yes\n"
      "  capture request header Host len 32\n"
      "  capture response header Server len 10\n"
      "  log-format %ci\\ %[method,lower] %ST\n"
      "  option log-separate-errors\n"
      "  timeout tarpit 2s\n"
      "  mode http\n");
  ASSERT_TRUE(r.ok()) << testing::joined(errors(r));
  const Proxy& p = first_proxy(r);
  ASSERT_EQ(p.http_request_rules.size(), 7U);
  const auto& deny = p.http_request_rules[0];
  EXPECT_EQ(deny.action, HttpRule::Action::Deny);
  EXPECT_EQ(deny.status, 403);
  ASSERT_TRUE(deny.cond.has_value());
  EXPECT_EQ(deny.loc.line, 5);
  const auto& redir = p.http_request_rules[1];
  EXPECT_EQ(redir.redirect, HttpRule::Redirect::Prefix);
  EXPECT_EQ(redir.value, "/new");
  EXPECT_EQ(redir.status, 301);
  EXPECT_TRUE(redir.drop_query);
  const auto& ret = p.http_request_rules[2];
  EXPECT_EQ(ret.status, 404);
  EXPECT_EQ(ret.body, "gone");
  EXPECT_TRUE(ret.cond->unless);
  EXPECT_EQ(p.http_request_rules[4].match, "beg");
  EXPECT_EQ(p.http_request_rules[5].regex, "^(.*)$");
  EXPECT_EQ(p.http_request_rules[6].action, HttpRule::Action::AddHeader);
  EXPECT_EQ(p.http_request_rules[6].name, "X-Legacy");
  EXPECT_EQ(p.http_request_rules[6].value, "yes");
  ASSERT_EQ(p.http_response_rules.size(), 1U);
  ASSERT_EQ(p.request_captures.size(), 1U);
  EXPECT_EQ(p.request_captures[0].len, 32U);
  EXPECT_EQ(p.response_captures[0].name, "Server");
  EXPECT_EQ(p.log_format, "%ci %[method,lower] %ST");
  EXPECT_TRUE(p.log_separate_errors);
  EXPECT_EQ(p.timeouts.tarpit->count(), 2000);
}

TEST(ConfigRules, MalformedRulesAreErrorsWithFileLineAndKeyword) {
  auto r = load(
      "frontend f\n"
      "  bind :1\n"
      "  timeout client 1s\n"
      "  http-request frobnicate\n"
      "  http-request set-header X-A\n"
      "  http-request deny deny_status 999\n"
      "  http-request replace-header X (unclosed x\n"
      "  http-request set-header X-B %[nosuchfetch]\n"
      "  http-request redirect location /x code 200\n"
      "  http-request return string x\n"
      "  http-response redirect location /x\n"
      "  http-request set-header X-C %[src] if nosuchacl\n"
      "  http-request\n"
      "  http-request del-header X -m foo\n"
      "  log-format %zz\n"
      "  capture request header Host\n"
      "  http-request set-header X-D %[hdr(a),sha1]\n"
      "  reqdel ^X-(A|B):\n"
      "  mode http\n");
  EXPECT_EQ(errors(r),
            (V{
                "t.cfg:4: [http-request] unknown action 'frobnicate'",
                "t.cfg:5: [http-request] 'http-request set-header' expects a header name and a "
                "value",
                "t.cfg:6: [http-request] invalid deny_status '999' (expected one of 200 400 403 "
                "404 405 408 410 413 425 429 500 501 502 503 504)",
                "t.cfg:7: [http-request] invalid regex '(unclosed' at offset 9: missing closing "
                "parenthesis",
                "t.cfg:8: [http-request] value: unknown sample fetch 'nosuchfetch'",
                "t.cfg:9: [http-request] invalid redirect code '200' (expected 301, 302, 303, 307 "
                "or 308)",
                "t.cfg:10: [http-request] 'return' with a body needs 'content-type TYPE'",
                "t.cfg:11: [http-response] action 'http-response redirect' is not implemented "
                "yet in Sluice",
                "t.cfg:12: [http-request] unknown ACL 'nosuchacl'",
                "t.cfg:13: [http-request] 'http-request' expects an action",
                "t.cfg:14: [http-request] unknown match method 'foo' (expected str, beg, end, sub "
                "or reg)",
                "t.cfg:15: [log-format] log-format: unknown log-format variable '%zz'",
                "t.cfg:16: [capture] 'capture' expects 'request header NAME len N' or 'response "
                "header NAME len N'",
                "t.cfg:17: [http-request] value: converter 'sha1' is not implemented yet in "
                "Sluice (lower, upper, hex, base64 and json are)",
                "t.cfg:18: [reqdel] 'reqdel' '^X-(A|B):' has no modern equivalent Sluice can "
                "derive; write 'http-request del-header' NAME [-m reg] instead",
            }));
}

TEST(ConfigRules, PlacesHaproxyRefuses) {
  auto r = load(
      "defaults\n"
      "  mode http\n"
      "  http-request deny\n"
      "defaults named\n"
      "  http-request deny if { path /x }\n"
      "frontend f from named\n"
      "  bind :1\n"
      "  log-format %[req.hdr(host)]\n"
      "  log-format %[method]/%[status]/%[src]\n"
      "  mode http\n");
  EXPECT_EQ(errors(r),
            (V{"t.cfg:3: [http-request] 'http-request' is not allowed in an anonymous 'defaults' "
               "section (name it and use 'from NAME', or write the rule in the proxy)",
               "t.cfg:8: [log-format] log-format: sample fetch 'req.hdr' cannot be used in "
               "log-format: the HTTP headers it needs are no longer available when the line is "
               "written"}));
  ASSERT_FALSE(r.model.proxies.empty());
  EXPECT_EQ(r.model.proxies[0].http_request_rules.size(), 1U);  // inherited from 'named'
}

TEST(ConfigRules, TcpModeIgnoresRulesAndKeepsLogFormat) {
  auto r = load(
      "global\n  log stdout local0\n"
      "listen t\n"
      "  mode tcp\n"
      "  bind :1\n"
      "  log global\n"
      "  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n"
      "  http-request deny\n"
      "  log-format \"%ci:%cp %ft %b/%s %Tw/%Tc/%Tt %B %U %ts %[src]\"\n"
      "  server s 127.0.0.1:2\n");
  EXPECT_TRUE(errors(r).empty()) << testing::joined(errors(r));
  EXPECT_EQ(testing::warnings(r),
            (V{"t.cfg:10: [http-request] 'http-request' rules ignored for proxy 't' as they "
               "require 'mode http'"}));
  ASSERT_EQ(r.model.proxies.size(), 1U);
  EXPECT_EQ(r.model.proxies[0].log_format, "%ci:%cp %ft %b/%s %Tw/%Tc/%Tt %B %U %ts %[src]");
}

// As in HAProxy: the request line, HTTP timers and cookies are refused in
// `mode tcp`, at the line of the log-format (the defaults' when inherited),
// with or without log targets.
TEST(ConfigRules, TcpModeRefusesHttpOnlyLogFormatVariables) {
  for (const char* var : {"r", "HM", "HU", "TR", "Tq", "Tr", "Ta", "Ti", "tr", "trg", "CC"}) {
    auto r = load(std::string("listen t\n  mode tcp\n  bind :1\n  log-format \"%ci %") + var +
                  "\"\n  server s 127.0.0.1:2\n");
    EXPECT_EQ(errors(r), (V{std::string("t.cfg:4: [log-format] log-format variable '%") + var +
                            "' needs 'mode http' (proxy 't' is in TCP mode)"}));
  }
  auto d = load(
      "defaults\n  mode tcp\n  log-format \"%ci %r\"\n"
      "listen h\n  mode http\n  bind :1\n  server s 127.0.0.1:2\n"
      "listen t\n  bind :3\n  server s 127.0.0.1:2\n"
      "backend b\n  server s 127.0.0.1:2\n");
  EXPECT_EQ(errors(d), (V{"t.cfg:3: [log-format] log-format variable '%r' needs 'mode http' "
                          "(proxy 't' is in TCP mode)"}));
}

// `option tcplog` / `option httplog` name built-in formats: the last of
// them and `log-format` wins, also across defaults.
TEST(ConfigRules, LastLogFormatStatementWins) {
  auto r = load(
      "defaults\n  mode tcp\n  log-format \"%ci custom\"\n"
      "listen a\n  bind :1\n  option tcplog\n  server s 127.0.0.1:2\n"
      "listen b\n  bind :3\n  server s 127.0.0.1:2\n"
      "listen c\n  bind :4\n  option tcplog\n  log-format \"%ci mine\"\n"
      "  server s 127.0.0.1:2\n");
  EXPECT_TRUE(errors(r).empty()) << testing::joined(errors(r));
  ASSERT_EQ(r.model.proxies.size(), 3U);
  EXPECT_EQ(r.model.proxies[0].log_format, "");
  EXPECT_TRUE(r.model.proxies[0].tcplog);
  EXPECT_EQ(r.model.proxies[1].log_format, "%ci custom");
  EXPECT_EQ(r.model.proxies[2].log_format, "%ci mine");
}

TEST(ConfigRules, SuggestsTheClosestAction) {
  auto r = load("frontend f\n  bind :1\n  http-request set-headr X y\n");
  ASSERT_EQ(errors(r).size(), 1U);
  EXPECT_EQ(errors(r)[0],
            "t.cfg:3: [http-request] unknown action 'set-headr' (did you mean 'set-header'?)");
}

}  // namespace
}  // namespace sluice::config
