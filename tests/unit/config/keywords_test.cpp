// The keyword registry: statuses, legacy translation, suggestions, sections.

#include <gtest/gtest.h>

#include "config/registry.h"
#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::joined;
using testing::load;
using testing::warnings;
using V = std::vector<std::string>;

TEST(ConfigKeywords, NotYetKeywordsAreErrors) {
  auto r = load(
      "global\n"
      "  cpu-map 1 0\n"
      "  stats maxconn 10\n"
      "  ssl-default-bind-ciphers HIGH\n"
      "  lua-load /x.lua\n"
      "  tune.ssl.cachesize 100\n"
      "listen l\n"
      "  bind :1\n"
      "  option httplog\n"
      "  no option httpclose\n"
      "  http-request silent-drop\n"
      "  tcp-request content accept\n"
      "  stick-table type ip size 1m\n"
      "  stick on src\n"
      "  stats show-node\n"
      "  http-after-response allow\n"
      "  capture cookie SID len 20\n"
      "  compression algo gzip\n"
      "  timeout http-request 5s\n"
      "  http-check send-state\n"  // implemented: no error
      "  tcp-check send-lf x\n"
      "  monitor-uri /m\n");
  EXPECT_EQ(errors(r), (V{
                           "t.cfg:2: [cpu-map] not implemented yet in Sluice",
                           "t.cfg:3: [stats maxconn] not implemented yet in Sluice",
                           "t.cfg:4: [ssl-default-bind-ciphers] not implemented yet in Sluice",
                           "t.cfg:5: [lua-load] not implemented yet in Sluice",
                           "t.cfg:6: [tune.ssl.cachesize] not implemented yet in Sluice",
                           "t.cfg:11: [http-request] action 'http-request silent-drop' is not "
                           "implemented yet in Sluice",
                           "t.cfg:12: [tcp-request content] not implemented yet in Sluice",
                           "t.cfg:13: [stick-table] not implemented yet in Sluice",
                           "t.cfg:14: [stick on] not implemented yet in Sluice",
                           "t.cfg:15: [stats show-node] not implemented yet in Sluice",
                           "t.cfg:16: [http-after-response] not implemented yet in Sluice",
                           "t.cfg:17: [capture] 'capture cookie' is not implemented yet in Sluice",
                           "t.cfg:18: [compression] not implemented yet in Sluice",
                           "t.cfg:21: [tcp-check send-lf] not implemented yet in Sluice",
                           "t.cfg:22: [monitor-uri] not implemented yet in Sluice",
                       }));
}

TEST(ConfigKeywords, LegacyTimeoutsAreTranslatedWithWarnings) {
  auto r = load(
      "defaults\n"
      "  contimeout 4s\n"
      "  clitimeout 40s\n"
      "  srvtimeout 400s\n"
      "backend b\n"
      "  redispatch\n"
      "  server s 127.0.0.1:1\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  EXPECT_EQ(warnings(r),
            (V{"t.cfg:2: [contimeout] 'contimeout' is deprecated; use 'timeout connect' instead "
               "(translated)",
               "t.cfg:3: [clitimeout] 'clitimeout' is deprecated; use 'timeout client' instead "
               "(translated)",
               "t.cfg:4: [srvtimeout] 'srvtimeout' is deprecated; use 'timeout server' instead "
               "(translated)",
               "t.cfg:6: [redispatch] 'redispatch' is deprecated; use 'option redispatch' "
               "instead (translated)"}));
  const Proxy& b = r.model.proxies[0];
  EXPECT_EQ(b.timeouts.connect, Millis(4000));
  EXPECT_EQ(b.timeouts.client, Millis(40000));
  EXPECT_EQ(b.timeouts.server, Millis(400000));
  EXPECT_TRUE(b.redispatch);
  EXPECT_EQ(b.redispatch_interval, -1);  // no interval given: the last retry
  EXPECT_EQ(r.model.warnings.size(), 4U);
}

TEST(ConfigKeywords, LegacyTranslationKeepsArgumentErrors) {
  auto r = load("backend b\n  contimeout 5q\n");
  EXPECT_EQ(errors(r), (V{"t.cfg:2: [timeout connect] expected a time like 5s, got '5q' (units: "
                          "us, ms, s, m, h, d)"}));
}

TEST(ConfigKeywords, NbprocMapsToNbthread) {
  auto r = load("global\n  nbproc 4\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.model.global.nbthread, 4U);
  EXPECT_EQ(warnings(r), (V{"t.cfg:2: [nbproc] nbproc is gone; Sluice runs 4 threads in one "
                            "process instead (use 'nbthread 4')"}));
  auto r2 = load("global\n  nbproc 4\n  nbthread 2\n");
  EXPECT_EQ(r2.model.global.nbthread, 2U);  // an explicit nbthread wins
}

TEST(ConfigKeywords, LegacyHttpRewritesNameTheirReplacement) {
  auto r = load(
      "frontend f\n"
      "  bind :1\n"
      "  reqadd X-Forwarded-Proto:\\ https\n"
      "  rspadd X-A:\\ b\n"
      "  reqrep ^([^\\ :]*)\\ /static/(.*) \\1\\ /\\2\n"
      "  reqidel ^X-Forwarded-For:.*\n"
      "  rspdeny ^Server:.*\n"
      "  reqtarpit ^X\n"
      "  option forceclose\n"
      "  block if TRUE\n"
      "  mode http\n");
  EXPECT_EQ(errors(r),
            (V{"t.cfg:5: [reqrep] 'reqrep' is no longer supported; use 'http-request "
               "replace-header / replace-uri' instead",
               "t.cfg:7: [rspdeny] 'rspdeny' is no longer supported; use 'http-response deny' "
               "instead",
               "t.cfg:8: [reqtarpit] 'reqtarpit' is no longer supported; use 'http-request "
               "tarpit' instead",
               "t.cfg:10: [block] 'block' is no longer supported; use 'http-request deny' "
               "instead"}));
  EXPECT_EQ(warnings(r),
            (V{"t.cfg:1: [frontend] missing timeouts for 'f': client (connections may hang "
               "without them)",
               "t.cfg:3: [reqadd] 'reqadd' is deprecated; use 'http-request add-header' instead "
               "(translated)",
               "t.cfg:4: [rspadd] 'rspadd' is deprecated; use 'http-response add-header' "
               "instead (translated)",
               "t.cfg:6: [reqidel] 'reqidel' is deprecated; use 'http-request del-header' "
               "instead (translated)",
               "t.cfg:9: [option forceclose] 'option forceclose' is deprecated; use 'option "
               "httpclose' instead (translated)"}));
}

TEST(ConfigKeywords, UnknownKeywordsSuggestTheClosest) {
  auto r = load(
      "global\n"
      "  maxconns 10\n"
      "  deamon\n"
      "  nbthreads 2\n"
      "  frobnicate\n"
      "backend b\n"
      "  balanse roundrobin\n"
      "  timeout conect 5s\n"
      "  timeout\n"
      "  option allbackup\n"
      "  option\n"
      "  serveur s 127.0.0.1:1\n"
      "  server s 127.0.0.1:1 wieght 3\n"
      "frontend f\n"
      "  bnd :80\n"
      "  bind :81 mxconn 3\n"
      "  use-backend b\n");
  EXPECT_EQ(errors(r),
            (V{
                "t.cfg:2: [maxconns] unknown keyword 'maxconns' in global section (did you mean "
                "'maxconn'?)",
                "t.cfg:3: [deamon] unknown keyword 'deamon' in global section (did you mean "
                "'daemon'?)",
                "t.cfg:4: [nbthreads] unknown keyword 'nbthreads' in global section (did you "
                "mean 'nbthread'?)",
                "t.cfg:5: [frobnicate] unknown keyword 'frobnicate' in global section",
                "t.cfg:7: [balanse] unknown keyword 'balanse' in backend section (did you mean "
                "'balance'?)",
                "t.cfg:8: [timeout conect] unknown keyword 'timeout conect' in backend section "
                "(did you mean 'timeout connect'?)",
                "t.cfg:9: [timeout] 'timeout' expects an argument",
                "t.cfg:10: [option allbackup] unknown option 'allbackup' (did you mean "
                "'allbackups'?)",
                "t.cfg:11: [option] 'option' expects an option name",
                "t.cfg:12: [serveur] unknown keyword 'serveur' in backend section (did you mean "
                "'server'?)",
                "t.cfg:13: [server] unknown server keyword 'wieght' (did you mean 'weight'?)",
                "t.cfg:15: [bnd] unknown keyword 'bnd' in frontend section (did you mean "
                "'bind'?)",
                "t.cfg:16: [bind] unknown bind keyword 'mxconn' (did you mean 'maxconn'?)",
                "t.cfg:17: [use-backend] unknown keyword 'use-backend' in frontend section (did "
                "you mean 'use_backend'?)",
            }));
}

TEST(ConfigKeywords, KeywordsInTheWrongSection) {
  auto r = load(
      "global\n"
      "  balance roundrobin\n"
      "defaults\n"
      "  bind :80\n"
      "  server s 127.0.0.1:1\n"
      "frontend f\n"
      "  bind :1\n"
      "  server s 127.0.0.1:1\n"
      "  default-server inter 1s\n"
      "  option allbackups\n"
      "  balance first\n"
      "  timeout connect 1s\n"
      "backend b\n"
      "  bind :2\n"
      "  use_backend x\n"
      "  default_backend x\n"
      "  option tcplog\n");
  EXPECT_EQ(errors(r),
            (V{
                "t.cfg:2: [balance] 'balance' is not valid in a global section",
                "t.cfg:4: [bind] 'bind' is not valid in a defaults section",
                "t.cfg:5: [server] 'server' is not valid in a defaults section",
                "t.cfg:8: [server] 'server' is not valid in a frontend section",
                "t.cfg:9: [default-server] 'default-server' is not valid in a frontend section",
                "t.cfg:10: [option allbackups] 'option allbackups' is not valid in a frontend "
                "section",
                "t.cfg:11: [balance] 'balance' is not valid in a frontend section",
                "t.cfg:12: [timeout connect] 'timeout connect' is not valid in a frontend section",
                "t.cfg:14: [bind] 'bind' is not valid in a backend section",
                "t.cfg:15: [use_backend] 'use_backend' is not valid in a backend section",
                "t.cfg:16: [default_backend] 'default_backend' is not valid in a backend section",
            }));
}

TEST(ConfigKeywords, NoPrefix) {
  auto r = load(
      "defaults\n"
      "  option redispatch\n"
      "  option tcpka\n"
      "  option dontlognull\n"
      "  log 127.0.0.1 local0\n"
      "backend b\n"
      "  no option redispatch\n"
      "  no option srvtcpka\n"
      "  no log\n"
      "  no retries 3\n");
  EXPECT_EQ(errors(r), (V{"t.cfg:10: [retries] 'no' cannot be used with 'retries'"}));
  const Proxy& b = r.model.proxies[0];
  EXPECT_FALSE(b.redispatch);
  EXPECT_TRUE(b.clitcpka);
  EXPECT_FALSE(b.srvtcpka);
  EXPECT_TRUE(b.logs.empty());
}

TEST(ConfigKeywords, OptionsSetTheModel) {
  auto r = load(
      "listen l\n"
      "  bind :1\n"
      "  option redispatch 2\n"
      "  option allbackups\n"
      "  option tcpka\n"
      "  option tcplog\n"
      "  option dontlognull\n"
      "  option splice-request\n"
      "  option splice-response\n"
      "  option splice-auto\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const Proxy& l = r.model.proxies[0];
  EXPECT_TRUE(l.redispatch);
  EXPECT_EQ(l.redispatch_interval, 2);
  EXPECT_TRUE(l.allbackups && l.clitcpka && l.srvtcpka && l.tcplog && l.dontlognull);
  EXPECT_TRUE(l.splice_request && l.splice_response && l.splice_auto);
  auto r2 = load("backend b\n  option redispatch 0\n  option tcplog x\n  option redispatch z\n");
  EXPECT_FALSE(r2.model.proxies[0].redispatch);
  EXPECT_EQ(errors(r2), (V{"t.cfg:3: [option tcplog] unexpected argument 'x' ('tcplog' expects no argument)",
                           "t.cfg:4: [option redispatch] expected a number, got 'z'"}));
}

TEST(ConfigKeywords, RegistryTablesAreConsistent) {
  for (const auto& k : section_keywords()) {
    EXPECT_NE(k.sections, 0U) << k.name;
    if (k.status == KwStatus::Implemented) {
      EXPECT_NE(k.parse, nullptr) << k.name;
    }
    if (k.status == KwStatus::Legacy) {
      EXPECT_FALSE(k.modern.empty()) << k.name;
    }
  }
  for (const auto& k : option_keywords())
    if (k.status == KwStatus::Implemented) {
      EXPECT_NE(k.parse, nullptr) << k.name;
    }
  for (const auto& k : server_keywords())
    if (k.status == KwStatus::Implemented) {
      EXPECT_NE(k.parse, nullptr) << k.name;
    }
  for (const auto& k : bind_keywords())
    if (k.status == KwStatus::Implemented) {
      EXPECT_NE(k.parse, nullptr) << k.name;
    }
  EXPECT_GT(fetch_keywords().size(), 400U);
}

TEST(ConfigKeywords, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
  EXPECT_EQ(edit_distance("", "abc"), 3U);
  EXPECT_EQ(edit_distance("same", "same"), 0U);
  EXPECT_EQ(edit_distance("scr", "src"), 1U);  // a swap counts as one edit
  EXPECT_EQ(edit_distance("abcdef", "uvwxyz", 2), 3U);  // bounded
  EXPECT_EQ(did_you_mean("maxconm", {"maxconn", "retries"}), " (did you mean 'maxconn'?)");
  EXPECT_EQ(did_you_mean("zzz", {"maxconn", "retries"}), "");
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigKeywords, FamiliesAndOtherSectionsSuggestions) {
  auto r = testing::load(
      "frontend f\n"
      "  bind :1\n"
      "  timeout client 1s\n"
      "  stats socket /x\n"
      "  option redispach\n"
      "  tcp-request foo\n");
  EXPECT_EQ(testing::errors(r),
            (std::vector<std::string>{
                "t.cfg:4: [stats socket] 'stats socket' is not valid in a frontend section",
                "t.cfg:5: [option redispach] unknown option 'redispach' (did you mean "
                "'redispatch'?)",
                "t.cfg:6: [tcp-request foo] unknown keyword 'tcp-request foo' in frontend "
                "section",
            }));
}

}  // namespace
}  // namespace sluice::config
