// Proxy keywords: servers, default-server, binds, balance, global settings,
// log targets and cross-reference validation.

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::joined;
using testing::load;
using V = std::vector<std::string>;

TEST(ConfigServers, OptionsFillTheModel) {
  auto r = load(
      "backend b\n"
      "  server s1 10.0.0.1:80 weight 0 backup disabled maxconn 10 minconn 2 maxqueue 5 "
      "source 10.0.0.9 check inter 2s fastinter 500ms downinter 10s rise 4 fall 5 port 8080 "
      "addr 10.0.0.2 id 7\n"
      "  server s2 10.0.0.1 check no-check enabled\n"
      "  server s3 10.0.0.1:+100\n"
      "  server s4 /run/app.sock\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const auto& s = r.model.proxies[0].servers;
  ASSERT_EQ(s.size(), 4U);
  EXPECT_EQ(s[0].weight, 0U);
  EXPECT_TRUE(s[0].backup && s[0].disabled && s[0].check);
  EXPECT_EQ(s[0].maxconn, 10U);
  EXPECT_EQ(s[0].minconn, 2U);
  EXPECT_EQ(s[0].maxqueue, 5U);
  EXPECT_EQ(s[0].source->text, "10.0.0.9");
  EXPECT_EQ(s[0].inter, Millis(2000));
  EXPECT_EQ(s[0].fastinter, Millis(500));
  EXPECT_EQ(s[0].downinter, Millis(10000));
  EXPECT_EQ(s[0].rise, 4U);
  EXPECT_EQ(s[0].fall, 5U);
  EXPECT_EQ(s[0].check_port, 8080);
  EXPECT_EQ(s[0].check_addr->text, "10.0.0.2");
  EXPECT_EQ(s[0].id, 7);
  EXPECT_FALSE(s[0].port_from_client);
  EXPECT_EQ(s[0].loc.line, 2);
  EXPECT_FALSE(s[1].check);
  EXPECT_FALSE(s[1].disabled);
  EXPECT_TRUE(s[1].port_from_client);
  EXPECT_EQ(s[1].addr.port(), 0);
  EXPECT_EQ(s[1].id, 1);
  EXPECT_TRUE(s[2].port_offset_set);
  EXPECT_EQ(s[2].port_offset, 100);
  EXPECT_TRUE(s[3].addr.is_unix());
  EXPECT_FALSE(s[3].port_from_client);
}

TEST(ConfigServers, DefaultServerAppliesToFollowingServers) {
  auto r = load(
      "defaults\n"
      "  default-server inter 5s fall 2\n"
      "backend b\n"
      "  server s1 127.0.0.1:1\n"
      "  default-server inter 1s weight 50 check\n"
      "  server s2 127.0.0.1:2\n"
      "  server s3 127.0.0.1:3 weight 7 no-check\n"
      "backend c\n"
      "  server s1 127.0.0.1:1\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const auto& b = r.model.proxies[0].servers;
  EXPECT_EQ(b[0].inter, Millis(5000));
  EXPECT_EQ(b[0].fall, 2U);
  EXPECT_FALSE(b[0].check);
  EXPECT_EQ(b[1].inter, Millis(1000));
  EXPECT_EQ(b[1].fall, 2U);
  EXPECT_EQ(b[1].weight, 50U);
  EXPECT_TRUE(b[1].check);
  EXPECT_EQ(b[2].weight, 7U);
  EXPECT_FALSE(b[2].check);
  const auto& c = r.model.proxies[1].servers;
  EXPECT_EQ(c[0].inter, Millis(5000));  // backend b's default-server stays in b
  EXPECT_EQ(c[0].weight, 1U);
}

TEST(ConfigServers, Errors) {
  auto r = load(
      "backend b\n"
      "  server s1 127.0.0.1:1 weight 257\n"
      "  server s1 127.0.0.1:2\n"
      "  server s2\n"
      "  server s3 127.0.0.1:3 inter\n"
      "  server s4 127.0.0.1:4 inter 0 rise 0 port 0\n"
      "  server s5 127.0.0.1:5 cookie a slowstart 10s observe layer7 track b/s1 send-proxy ssl\n"
      "  server s6 nowhere.invalid:80\n"
      "  server s7 127.0.0.1:99999\n"
      "  default-server id 3\n"
      "  server s8 127.0.0.1:8 weight x inter 5q\n");
  EXPECT_EQ(errors(r),
            (V{
                "t.cfg:2: [weight] weight: value 257 out of range 0..256",
                "t.cfg:3: [server] duplicate server name 's1' (first declared at t.cfg:2)",
                "t.cfg:4: [server] 'server' expects a name and an address",
                "t.cfg:5: [server] 'inter' expects an argument (TIME)",
                "t.cfg:6: [inter] inter: the time must be above 0",
                "t.cfg:6: [rise] rise: value 0 out of range 1..2147483647",
                "t.cfg:6: [port] port: value 0 out of range 1..65535",
                "t.cfg:7: [observe] 'layer7' can only be used in http proxies",
                "t.cfg:7: [track] server keyword 'track' is not implemented yet in Sluice",
                "t.cfg:7: [send-proxy] server keyword 'send-proxy' is not implemented yet in "
                "Sluice",
                "t.cfg:7: [ssl] server keyword 'ssl' is not implemented yet in Sluice",
                "t.cfg:8: [server] could not resolve address 'nowhere.invalid'",
                "t.cfg:9: [server] invalid port '99999' in '127.0.0.1:99999' (expected 1..65535)",
                "t.cfg:10: [id] 'id' is not valid on a default-server line",
                "t.cfg:11: [weight] weight: expected a number, got 'x'",
                "t.cfg:11: [inter] inter: expected a time like 5s, got '5q' (units: us, ms, s, m, "
                "h, d)",
            }));
}

TEST(ConfigServers, PoolLowConn) {
  auto r = load(
      "backend b\n  mode http\n  default-server pool-low-conn 2\n"
      "  server a 127.0.0.1:1\n  server b 127.0.0.1:2 pool-low-conn 8 pool-max-conn 16\n");
  ASSERT_TRUE(r.ok()) << testing::joined(errors(r));
  EXPECT_EQ(r.model.proxies[0].servers[0].pool_low_conn, 2U);
  EXPECT_EQ(r.model.proxies[0].servers[1].pool_low_conn, 8U);
  EXPECT_EQ(r.model.proxies[0].servers[1].pool_max_conn, 16);
  auto bad = load(
      "backend b\n  server a 127.0.0.1:1 pool-low-conn -1\n"
      "  server b 127.0.0.1:2 pool-low-conn many\n  server c 127.0.0.1:3 pool-low-conn\n");
  auto e = errors(bad);
  ASSERT_EQ(e.size(), 3U) << testing::joined(e);
  EXPECT_NE(e[0].find("t.cfg:2: [pool-low-conn] pool-low-conn"), std::string::npos) << e[0];
  EXPECT_NE(e[1].find("t.cfg:3: [pool-low-conn] pool-low-conn"), std::string::npos) << e[1];
  EXPECT_EQ(e[2], "t.cfg:4: [server] 'pool-low-conn' expects an argument (N)");
}

TEST(ConfigServers, PassiveHealthAndMarkedActions) {
  auto r = load(
      "backend b\n"
      "  mode http\n"
      "  default-server observe layer7 error-limit 4 on-error sudden-death\n"
      "  server s1 127.0.0.1:1 check on-marked-down shutdown-sessions\n"
      "  server s2 127.0.0.1:2 check observe layer4 on-error mark-down "
      "on-marked-up shutdown-backup-sessions\n"
      "  server s3 127.0.0.1:3 observe none\n"
      "  server s4 127.0.0.1:4 observe layer9 error-limit 0 on-error bogus on-marked-up x\n");
  using S = ServerDef;
  const auto& sv = r.model.proxies.at(0).servers;
  EXPECT_EQ(sv[0].observe, S::Observe::Layer7);
  EXPECT_EQ(sv[0].error_limit, 4U);
  EXPECT_EQ(sv[0].on_error, S::OnError::SuddenDeath);
  EXPECT_TRUE(sv[0].shutdown_on_down);
  EXPECT_FALSE(sv[0].shutdown_backups_on_up);
  EXPECT_EQ(sv[1].observe, S::Observe::Layer4);
  EXPECT_EQ(sv[1].on_error, S::OnError::MarkDown);
  EXPECT_TRUE(sv[1].shutdown_backups_on_up);
  EXPECT_EQ(sv[2].observe, S::Observe::None);
  EXPECT_EQ(errors(r),
            (V{
                "t.cfg:7: [observe] 'observe' expects one of 'none', 'layer4', 'layer7' but got "
                "'layer9'",
                "t.cfg:7: [error-limit] error-limit: value 0 out of range 1..2147483647",
                "t.cfg:7: [on-error] 'on-error' expects one of 'fastinter', 'fail-check', "
                "'sudden-death' or 'mark-down' but got 'bogus'",
                "t.cfg:7: [on-marked-up] 'on-marked-up' expects 'shutdown-backup-sessions' but "
                "got 'x'",
            }));
}

TEST(ConfigBinds, FormsAndOptions) {
  auto r = load(
      "frontend f\n"
      "  bind *:80,:::8443 name web maxconn 100 backlog 64 v4v6 transparent interface eth0\n"
      "  bind 127.0.0.1:8000-8005\n"
      "  bind [::1]:81 v6only\n"
      "  bind unix@/run/s.sock mode 660 uid 0 gid 0 user root group root\n"
      "  bind /run/t.sock\n"
      "  bind ipv4@:82\n"
      "  default_backend b\n"
      "backend b\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const auto& b = r.model.proxies[0].binds;
  ASSERT_EQ(b.size(), 6U);
  ASSERT_EQ(b[0].addrs.size(), 2U);
  EXPECT_EQ(b[0].addrs[1].family(), AF_INET6);
  EXPECT_EQ(b[0].name, "web");
  EXPECT_EQ(b[0].maxconn, 100U);
  EXPECT_EQ(b[0].backlog, 64U);
  EXPECT_TRUE(b[0].v4v6 && b[0].transparent);
  EXPECT_EQ(b[0].interface, "eth0");
  EXPECT_EQ(b[1].addrs.size(), 6U);
  EXPECT_TRUE(b[2].v6only);
  EXPECT_TRUE(b[3].addrs[0].is_unix());
  EXPECT_EQ(b[3].unix_mode, 0660U);
  EXPECT_EQ(b[3].unix_uid, 0U);
  EXPECT_EQ(b[3].unix_gid, 0U);
  EXPECT_TRUE(b[4].addrs[0].is_unix());
  EXPECT_EQ(b[5].addrs[0].family(), AF_INET);
  EXPECT_EQ(b[1].loc.line, 3);
}

TEST(ConfigBinds, Errors) {
  auto r = load(
      "frontend f\n"
      "  bind\n"
      "  bind :80 ssl crt /x.pem alpn h2\n"
      "  bind :81 mode 999 user no-such-user-here group no-such-group-here\n"
      "  bind :82 maxconn\n"
      "  bind 10.0.0.1\n"
      "  bind :83 accept-proxy\n");
  EXPECT_EQ(errors(r),
            (V{
                "t.cfg:2: [bind] 'bind' expects an address like *:80",
                "t.cfg:3: [ssl] bind keyword 'ssl' is not implemented yet in Sluice",
                "t.cfg:3: [crt] bind keyword 'crt' is not implemented yet in Sluice",
                "t.cfg:3: [alpn] bind keyword 'alpn' is not implemented yet in Sluice",
                "t.cfg:4: [mode] mode: expected an octal mode like 600, got '999'",
                "t.cfg:4: [user] unknown user 'no-such-user-here'",
                "t.cfg:4: [group] unknown group 'no-such-group-here'",
                "t.cfg:5: [bind] 'maxconn' expects an argument (N)",
                "t.cfg:6: [bind] missing port in bind address '10.0.0.1' (expected like *:80)",
                "t.cfg:7: [accept-proxy] bind keyword 'accept-proxy' is not implemented yet in "
                "Sluice",
            }));
}

TEST(ConfigProxy, BalanceAndHashType) {
  auto r = load(
      "backend a\n  balance static-rr\n"
      "backend b\n  balance first\n"
      "backend c\n  balance source\n  hash-type consistent crc32 avalanche\n"
      "backend d\n  hash-type map-based\n"
      "backend e\n  balance source\n  hash-type consistent\n"
      "backend f\n  balance source\n  hash-type consistent djb2\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  EXPECT_EQ(r.model.proxies[0].balance.algo, BalanceAlgo::StaticRr);
  EXPECT_EQ(r.model.proxies[1].balance.algo, BalanceAlgo::First);
  const Balance& c = r.model.proxies[2].balance;
  EXPECT_EQ(c.algo, BalanceAlgo::Source);
  EXPECT_EQ(c.hash_type, HashType::Consistent);
  EXPECT_EQ(c.hash_function, HashFunction::Crc32);
  EXPECT_TRUE(c.avalanche);
  EXPECT_FALSE(r.model.proxies[3].balance.explicit_set);
  EXPECT_FALSE(r.model.proxies[3].balance.avalanche);
  // No function named: sdbm with avalanche; a named one without it: none.
  EXPECT_EQ(r.model.proxies[4].balance.hash_function, HashFunction::Sdbm);
  EXPECT_TRUE(r.model.proxies[4].balance.avalanche);
  EXPECT_EQ(r.model.proxies[5].balance.hash_function, HashFunction::Djb2);
  EXPECT_FALSE(r.model.proxies[5].balance.avalanche);

  auto bad = load(
      "backend a\n"
      "  balance uri\n"
      "  balance hdr(host)\n"
      "  balance url_param id\n"
      "  balance random\n"
      "  balance rdp-cookie\n"
      "  balance roundrobinn\n"
      "  balance\n"
      "  hash-type consistant\n"
      "  hash-type consistent md5\n"
      "  balance leastconn now\n");
  EXPECT_EQ(errors(bad),
            (V{
                "t.cfg:6: [balance] balance algorithm 'rdp-cookie' is not implemented yet in "
                "Sluice",
                "t.cfg:7: [balance] unknown balance algorithm 'roundrobinn' (did you mean "
                "'roundrobin'?)",
                "t.cfg:8: [balance] 'balance' expects an algorithm like roundrobin",
                "t.cfg:9: [hash-type] unknown hash method 'consistant' (expected map-based or "
                "consistent) (did you mean 'consistent'?)",
                "t.cfg:10: [hash-type] unexpected 'md5' (expected a hash function sdbm, djb2, "
                "wt6, crc32 or none, then 'avalanche')",
                "t.cfg:11: [balance] unexpected argument 'now' after 'balance leastconn'",
            }));
}

TEST(ConfigProxy, ScalarKeywords) {
  auto r = load(
      "listen l\n"
      "  bind :1\n"
      "  mode tcp\n"
      "  maxconn 300\n"
      "  backlog 50\n"
      "  fullconn 1000\n"
      "  retries 0\n"
      "  source 192.0.2.1:0\n"
      "  id 42\n"
      "  description the main \"entry point\"\n"
      "  disabled\n"
      "  timeout connect 1s\n  timeout client 2s\n  timeout server 3s\n  timeout queue 4s\n"
      "  timeout tunnel 1h\n  timeout client-fin 5s\n  timeout server-fin 6s\n"
      "  timeout check 7s\n");
  ASSERT_EQ(errors(r), (V{"t.cfg:8: [source] invalid port '0' in '192.0.2.1:0' (expected 1..65535)"}));
  const Proxy& p = r.model.proxies[0];
  EXPECT_EQ(p.maxconn, 300U);
  EXPECT_EQ(p.backlog, 50U);
  EXPECT_EQ(p.fullconn, 1000U);
  EXPECT_EQ(p.retries, 0U);
  EXPECT_EQ(p.id, 42);
  EXPECT_EQ(p.description, "the main entry point");
  EXPECT_TRUE(p.disabled);
  EXPECT_EQ(p.timeouts.queue, Millis(4000));
  EXPECT_EQ(p.timeouts.tunnel, Millis(3600000));
  EXPECT_EQ(p.timeouts.client_fin, Millis(5000));
  EXPECT_EQ(p.timeouts.server_fin, Millis(6000));
  EXPECT_EQ(p.timeouts.check, Millis(7000));

  auto m = load(
      "backend b\n  mode http\n  mode udp\n  mode\n  retries -1\n  maxconn 1 2\n  id 0\n"
      "  timeout server\n");
  EXPECT_EQ(errors(m),
            (V{"t.cfg:3: [mode] unknown mode 'udp' (expected 'tcp' or 'http')",
               "t.cfg:4: [mode] 'mode' expects 'tcp' or 'http'",
               "t.cfg:5: [retries] expected a number, got '-1'",
               "t.cfg:6: [maxconn] 'maxconn' is not valid in a backend section",
               "t.cfg:7: [id] value 0 out of range 1..2147483647",
               "t.cfg:8: [timeout server] 'timeout server' expects a time like 5s"}));
}

TEST(ConfigGlobal, Keywords) {
  auto r = load(
      "global\n"
      "  daemon\n"
      "  chroot /var/empty\n"
      "  user root\n"
      "  group root\n"
      "  ulimit-n 65536\n"
      "  maxconn 5000\n"
      "  pidfile /run/sluice.pid\n"
      "  nbthread 8\n"
      "  log-tag edge\n"
      "  log-send-hostname lb1\n"
      "  node n1\n"
      "  tune.bufsize 32k\n"
      "  hard-stop-after 30s\n"
      "  close-spread-time 1500ms\n"
      "  spread-checks 5\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const Global& g = r.model.global;
  EXPECT_TRUE(g.daemon);
  EXPECT_EQ(g.chroot, "/var/empty");
  EXPECT_EQ(g.uid, 0U);
  EXPECT_EQ(g.gid, 0U);
  EXPECT_EQ(g.ulimit_n, 65536U);
  EXPECT_EQ(g.maxconn, 5000U);
  EXPECT_EQ(g.pidfile, "/run/sluice.pid");
  EXPECT_EQ(g.nbthread, 8U);
  EXPECT_EQ(g.log_tag, "edge");
  EXPECT_EQ(g.log_send_hostname, "lb1");
  EXPECT_EQ(g.node, "n1");
  EXPECT_EQ(g.bufsize, 32768U);
  EXPECT_EQ(g.hard_stop_after, Millis(30000));
  EXPECT_EQ(g.close_spread_time, Millis(1500));
  EXPECT_FALSE(g.close_spread_infinite);
  EXPECT_EQ(g.spread_checks, 5U);
  auto inf = load("global\n  close-spread-time 2s\n  close-spread-time infinite\n");
  ASSERT_TRUE(inf.ok()) << joined(errors(inf));
  EXPECT_TRUE(inf.model.global.close_spread_infinite);
  EXPECT_FALSE(inf.model.global.close_spread_time.has_value());

  auto bad = load(
      "global\n"
      "  user no-such-user-here\n"
      "  group no-such-group-here\n"
      "  uid x\n"
      "  nbthread 0\n"
      "  daemon now\n"
      "  chroot\n"
      "  tune.bufsize 10\n"
      "  spread-checks 90\n"
      "  hard-stop-after soon\n"
      "  log-send-hostname\n"
      "  close-spread-time never\n");
  EXPECT_EQ(errors(bad),
            (V{"t.cfg:2: [user] unknown user 'no-such-user-here'",
               "t.cfg:3: [group] unknown group 'no-such-group-here'",
               "t.cfg:4: [uid] expected a number, got 'x'",
               "t.cfg:5: [nbthread] value 0 out of range 1..4096",
               "t.cfg:6: [daemon] unexpected argument 'now' ('daemon' expects no argument)",
               "t.cfg:7: [chroot] 'chroot' expects a directory",
               "t.cfg:8: [tune.bufsize] buffer size 10 is out of range 1k..1g",
               "t.cfg:9: [spread-checks] value 90 out of range 0..50",
               "t.cfg:10: [hard-stop-after] expected a time like 5s, got 'soon'",
               "t.cfg:12: [close-spread-time] expected a time like 5s, got 'never'"}));
  EXPECT_FALSE(bad.model.global.log_send_hostname.empty());  // the host's own name
}

TEST(ConfigLog, Targets) {
  auto r = load(
      "global\n"
      "  log 127.0.0.1 local0\n"
      "  log 10.0.0.1:1514 len 2048 format rfc5424 daemon info notice\n"
      "  log udp@10.0.0.2 user err\n"
      "  log /dev/log local7 debug\n"
      "  log unix@/run/log local1\n"
      "  log stdout format raw local0\n"
      "  log stderr local0 emerg\n"
      "frontend f\n"
      "  bind :1\n"
      "  log global\n"
      "  log 127.0.0.1:2000 local2\n"
      "  default_backend b\n"
      "backend b\n"
      "  log global\n"
      "  no log\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  const auto& g = r.model.global.logs;
  ASSERT_EQ(g.size(), 7U);
  EXPECT_EQ(g[0].kind, LogTarget::Kind::Udp);
  EXPECT_EQ(g[0].addr.port(), 514);
  EXPECT_EQ(g[0].facility, 16);
  EXPECT_EQ(g[0].max_level, 7);
  EXPECT_EQ(g[0].format, LogFormat::Rfc3164);
  EXPECT_EQ(g[1].addr.port(), 1514);
  EXPECT_EQ(g[1].max_length, 2048U);
  EXPECT_EQ(g[1].format, LogFormat::Rfc5424);
  EXPECT_EQ(g[1].facility, 3);
  EXPECT_EQ(g[1].max_level, 6);
  EXPECT_EQ(g[1].min_level, 5);
  EXPECT_EQ(g[2].kind, LogTarget::Kind::Udp);
  EXPECT_EQ(g[2].max_level, 3);
  EXPECT_EQ(g[3].kind, LogTarget::Kind::UnixDgram);
  EXPECT_EQ(g[3].facility, 23);
  EXPECT_EQ(g[4].kind, LogTarget::Kind::UnixDgram);
  EXPECT_EQ(g[5].kind, LogTarget::Kind::Stdout);
  EXPECT_EQ(g[5].format, LogFormat::Raw);
  EXPECT_EQ(g[6].kind, LogTarget::Kind::Stderr);
  EXPECT_EQ(g[6].max_level, 0);
  const Proxy& f = r.model.proxies[0];
  ASSERT_EQ(f.logs.size(), 8U);  // global's seven, then its own
  EXPECT_EQ(f.logs[7].facility, 18);
  EXPECT_TRUE(r.model.proxies[1].logs.empty());
}

TEST(ConfigLog, Errors) {
  auto r = load(
      "global\n"
      "  log 127.0.0.1\n"
      "  log 127.0.0.1 local9\n"
      "  log 127.0.0.1 local0 loud\n"
      "  log 127.0.0.1 format json local0\n"
      "  log 127.0.0.1 len 10 local0\n"
      "  log 127.0.0.1 local0 info notice extra\n"
      "  log global\n"
      "  log ring@buf local0\n"
      "  log 127.0.0.1 sample 1:2 local0\n"
      "  log\n"
      "  log 1.2.3.4:0 local0\n");
  EXPECT_EQ(errors(r),
            (V{"t.cfg:2: [log] missing syslog facility after '127.0.0.1' (e.g. local0)",
               "t.cfg:3: [log] unknown syslog facility 'local9' (did you mean 'local0'?)",
               "t.cfg:4: [log] unknown log level 'loud'",
               "t.cfg:5: [log] unknown log format 'json'",
               "t.cfg:6: [log] len: value 10 out of range 80..65535",
               "t.cfg:7: [log] unexpected argument 'extra' after the log levels",
               "t.cfg:8: [log] 'log global' is only valid in proxies",
               "t.cfg:9: [log] log target 'ring@buf' is not implemented yet in Sluice",
               "t.cfg:10: [log] log sampling ('sample') is not implemented yet in Sluice",
               "t.cfg:11: [log] 'log' expects 'global' or a target like 127.0.0.1 local0",
               "t.cfg:12: [log] log target: invalid port '0' in '1.2.3.4:0' (expected 1..65535)"}));
}

TEST(ConfigValidation, BackendReferences) {
  auto r = load(
      "frontend f\n"
      "  bind :1\n"
      "  use_backend nope\n"
      "  use_backend g\n"
      "  use_backend bakend\n"
      "  use_backend %[req.hdr(host)]\n"
      "  default_backend also-nope\n"
      "frontend g\n"
      "  bind :2\n"
      "  default_backend l\n"
      "frontend h\n"
      "listen l\n"
      "  bind :3\n"
      "  default_backend backend\n"
      "backend backend\n");
  EXPECT_EQ(errors(r),
            (V{"t.cfg:3: [use_backend] unknown backend 'nope'",
               "t.cfg:4: [use_backend] 'g' is a frontend; use_backend needs a backend or listen "
               "section",
               "t.cfg:5: [use_backend] unknown backend 'bakend' (did you mean 'backend'?)",
               "t.cfg:6: [use_backend] dynamic backend names (log-format) are not implemented "
               "yet in Sluice",
               "t.cfg:7: [default_backend] unknown backend 'also-nope'",
               "t.cfg:11: [frontend] frontend 'h' has no 'bind' line (declare it as a backend if "
               "it only has servers)"}));
}

TEST(ConfigValidation, DefaultBackendFromDefaults) {
  auto r = load(
      "defaults\n"
      "  default_backend missing\n"
      "backend b\n"
      "frontend f\n"
      "  bind :1\n");
  EXPECT_EQ(errors(r), (V{"t.cfg:2: [default_backend] unknown backend 'missing'"}));
  EXPECT_TRUE(r.model.proxies[0].default_backend.empty());  // a backend ignores it
}

TEST(ConfigValidation, ModesMustMatch) {
  auto r = load(
      "frontend f\n"
      "  bind :1\n"
      "  mode tcp\n"
      "  default_backend b\n"
      "backend b\n"
      "  mode http\n");
  EXPECT_EQ(errors(r),
            (V{"t.cfg:4: [default_backend] tcp frontend 'f' cannot use http backend 'b'"}));
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ConfigBinds, PortRangeExpansionIsBounded) {
  std::string text = "frontend f\n";
  for (int i = 0; i < 3; ++i) text += "  bind 127.0.0.1:1-65535\n";
  auto r = testing::load(text);
  EXPECT_EQ(testing::errors(r),
            (std::vector<std::string>{
                "t.cfg:3: [bind] too many listening addresses (more than 100000 in all binds)",
                "t.cfg:4: [bind] too many listening addresses (more than 100000 in all binds)"}));
  auto r2 = testing::load("frontend f\n  bind :1-65535,:1-2\n");
  EXPECT_EQ(testing::errors(r2),
            (std::vector<std::string>{"t.cfg:2: [bind] bind list ':1-65535,:1-2' expands to more "
                                      "than 65536 addresses"}));
}

}  // namespace
}  // namespace sluice::config
