// Protocol checks compile into steps; run them against scripted servers.

#include "checks/protocols.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace sluice::checks {
namespace {

using namespace std::chrono_literals;

// Accepts one connection, reads until `until` is seen (or 1 s), answers
// `reply`, then closes. `greeting` is written first, before reading.
class ScriptServer {
 public:
  ScriptServer(std::string greeting, std::string until, std::string reply)
      : greeting_(std::move(greeting)), until_(std::move(until)), reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in);
    ::listen(fd_, 4);
    socklen_t len = sizeof in;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &len);
    port_ = ntohs(in.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptServer() {
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  const std::string& received() const { return got_; }

 private:
  void serve() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;
    int c = ::accept(fd_, nullptr, nullptr);
    if (!greeting_.empty()) ::send(c, greeting_.data(), greeting_.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (int i = 0; i < 50 && (until_.empty() || got_.find(until_) == std::string::npos); ++i) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 20) <= 0) continue;
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      got_.append(buf, static_cast<std::size_t>(n));
      // Nothing to wait for: answer the first bytes at once (waiting out the
      // loop would race the check's 1 s timeout on a loaded machine).
      if (until_.empty()) break;
    }
    ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    ::close(c);
  }
  int fd_;
  std::uint16_t port_ = 0;
  std::string greeting_, until_, reply_;
  std::string got_;
  std::thread thread_;
};

config::Address loopback(std::uint16_t port) {
  config::Address a;
  auto& in = reinterpret_cast<sockaddr_in&>(a.storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.length = sizeof(sockaddr_in);
  return a;
}

CheckResult run_once(std::uint16_t port, const config::HealthCheckDef& def) {
  core::Loop loop;
  CheckConfig cfg;
  cfg.addr = loopback(port);
  cfg.inter = cfg.fastinter = cfg.downinter = 1000ms;
  config::ServerDef srv;
  cfg.compile_error = compile_check(def, srv, cfg.steps);
  CheckResult out;
  CheckRun run(loop, cfg, [&](const CheckResult& r, HealthChange, const Health&) {
    out = r;
    loop.stop();
  });
  run.start(0ms);
  core::Timer guard([&] { loop.stop(); });
  loop.arm(guard, 3000ms);
  loop.run();
  run.stop();
  return out;
}

config::HealthCheckDef httpchk(std::vector<std::string> args) {
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::HttpChk;
  d.args = std::move(args);
  return d;
}

config::CheckRule expect(std::string match, std::string pattern, bool negate = false) {
  config::CheckRule r;
  r.kind = config::CheckRule::Kind::Expect;
  r.match = std::move(match);
  r.pattern = std::move(pattern);
  r.negate = negate;
  return r;
}

TEST(HttpChk, SeedFormPassesOn200AndSendsTheRequest) {
  ScriptServer s("", "\r\n\r\n", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  auto r = run_once(s.port(), httpchk({"HEAD", "/check.txt", "HTTP/1.0"}));
  EXPECT_EQ(r.status, CheckStatus::L7Ok);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.info, "OK");
}

TEST(HttpChk, Status500IsL7STSWithCodeAndReason) {
  ScriptServer s("", "\r\n\r\n", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  auto r = run_once(s.port(), httpchk({"/check.txt"}));
  EXPECT_EQ(r.status, CheckStatus::L7Sts);
  EXPECT_EQ(r.code, 500);
  EXPECT_EQ(r.info, "Internal Server Error");
}

TEST(HttpChk, LegacyHeadersAfterVersionGoOutAsWritten) {
  ScriptServer s("", "\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  auto r = run_once(s.port(), httpchk({"GET", "/", "HTTP/1.1\r\nHost: www"}));
  EXPECT_EQ(r.status, CheckStatus::L7Ok);
  EXPECT_EQ(s.received(), "GET / HTTP/1.1\r\nHost: www\r\n\r\n");
}

TEST(HttpChk, ExpectStringAndNegation) {
  {
    ScriptServer s("", "\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy");
    auto d = httpchk({});
    d.http_rules.push_back(expect("string", "healthy"));
    EXPECT_EQ(run_once(s.port(), d).status, CheckStatus::L7Ok);
  }
  {
    ScriptServer s("", "\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nsick");
    auto d = httpchk({});
    d.http_rules.push_back(expect("string", "healthy"));
    EXPECT_EQ(run_once(s.port(), d).status, CheckStatus::L7Rsp);
  }
  {
    ScriptServer s("", "\r\n\r\n", "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
    auto d = httpchk({});
    d.http_rules.push_back(expect("rstatus", "^5", true));
    auto r = run_once(s.port(), d);
    EXPECT_EQ(r.status, CheckStatus::L7Sts);
    EXPECT_EQ(r.info, "HTTP status check returned code <503>");
  }
}

TEST(HttpChk, DisableOn404IsConditionalPass) {
  ScriptServer s("", "\r\n\r\n", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  auto d = httpchk({});
  d.disable_on_404 = true;
  auto r = run_once(s.port(), d);
  EXPECT_EQ(r.status, CheckStatus::L7OkC);
  EXPECT_TRUE(r.passed());
}

TEST(HttpChk, NoAnswerIsTimeoutAndCloseIsL7RSP) {
  ScriptServer s("", "", "");
  auto r = run_once(s.port(), httpchk({}));
  EXPECT_EQ(r.status, CheckStatus::L7Rsp);
}

TEST(MysqlCheck, LoginPacketSizesMatchHaproxy) {
  // haproxy's reg-test: 20 bytes (pre-41) and 47 (post-41) with COM_QUIT.
  EXPECT_EQ(mysql_login_packet("user", "pre-41").size() + 5, 20U);
  EXPECT_EQ(mysql_login_packet("user", "post-41").size() + 5, 47U);
  EXPECT_EQ(mysql_login_packet("user", "post-80").size(), 4U + 56U + 4U);
  EXPECT_EQ(mysql_login_packet("user", "post-41").substr(0, 8), std::string("\x26\x00\x00\x01\x00\x82\x00\x00", 8));
}

std::string mysql_packet(std::uint8_t seq, const std::string& payload) {
  std::string p;
  p += static_cast<char>(payload.size() & 0xFF);
  p += static_cast<char>((payload.size() >> 8) & 0xFF);
  p += '\0';
  p += static_cast<char>(seq);
  return p + payload;
}

TEST(MysqlCheck, GreetingLoginOk) {
  std::string greeting = mysql_packet(0, std::string("\x0a" "10.11.19-MariaDB\0xxxxxxxx", 26));
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::Mysql;
  d.args = {"user", "chk"};
  // The login ends with the user, its NUL and an empty auth response.
  ScriptServer s(greeting, std::string("chk\0\0", 5),
                 mysql_packet(2, std::string("\x00\x00\x00\x02\x00\x00\x00", 7)));
  auto r = run_once(s.port(), d);
  EXPECT_EQ(r.status, CheckStatus::L7Ok);
  EXPECT_EQ(r.info, "10.11.19-MariaDB");
  EXPECT_EQ(s.received(), mysql_login_packet("chk", "post-41"));
}

TEST(MysqlCheck, AccessDeniedWithUserIsL7STS) {
  std::string greeting = mysql_packet(0, std::string("\x0a" "10.11.19-MariaDB\0xxxxxxxx", 26));
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::Mysql;
  d.args = {"user", "chk"};
  ScriptServer s(greeting, std::string("chk\0\0", 5),
                 mysql_packet(2, std::string("\xff\x15\x04#28000Access denied", 22)));
  auto r = run_once(s.port(), d);
  EXPECT_EQ(r.status, CheckStatus::L7Sts);
  EXPECT_EQ(r.code, 1045);
  EXPECT_EQ(r.info, "Access denied");
  // Without a user the same refusal passes: the greeting decided.
  ScriptServer s2(greeting, std::string("\0\0", 2),
                  mysql_packet(2, std::string("\xff\x15\x04#28000Access denied", 22)));
  d.args.clear();
  EXPECT_EQ(run_once(s2.port(), d).status, CheckStatus::L7Ok);
}

TEST(MysqlCheck, ErrorGreetingIsL7STSWithErrno) {
  std::string err = mysql_packet(0, std::string("\xff\x69\x04Host '127.0.0.2' is blocked", 30));
  ScriptServer s(err, "", "");
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::Mysql;
  auto r = run_once(s.port(), d);
  EXPECT_EQ(r.status, CheckStatus::L7Sts);
  EXPECT_EQ(r.code, 1129);
  EXPECT_EQ(r.info, "Host '127.0.0.2' is blocked");
}

TEST(TcpCheck, SendExpectSequence) {
  ScriptServer s("", "PING\r\n", "+PONG\r\n");
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::TcpCheck;
  config::CheckRule send;
  send.kind = config::CheckRule::Kind::Send;
  send.pattern = "PING\r\n";
  d.tcp_rules = {send, expect("string", "+PONG")};
  EXPECT_EQ(run_once(s.port(), d).status, CheckStatus::L7Ok);
  ScriptServer s2("", "PING\r\n", "-ERR\r\n");
  auto r = run_once(s2.port(), d);
  EXPECT_EQ(r.status, CheckStatus::L7Rsp);
  EXPECT_EQ(r.info, "TCPCHK did not match content '+PONG' at step 3");
}

TEST(TcpCheck, BinaryAndRegex) {
  ScriptServer s("\x01\x02hello 42", "", "");
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::TcpCheck;
  d.tcp_rules = {expect("binary", "0102"), expect("rstring", "hello [0-9]+")};
  EXPECT_EQ(run_once(s.port(), d).status, CheckStatus::L7Ok);
}

TEST(RedisCheck, PongPasses) {
  ScriptServer s("", "PING\r\n", "+PONG\r\n");
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::Redis;
  EXPECT_EQ(run_once(s.port(), d).status, CheckStatus::L7Ok);
}

TEST(SmtpCheck, BannerThenHelo) {
  ScriptServer s("220 mail ESMTP\r\n", "HELO", "250 hello\r\n");
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::Smtp;
  auto r = run_once(s.port(), d);
  EXPECT_EQ(r.status, CheckStatus::L7Ok);
  EXPECT_EQ(r.code, 250);
  ScriptServer s2("554 go away\r\n", "", "");
  auto r2 = run_once(s2.port(), d);
  EXPECT_EQ(r2.status, CheckStatus::L7Sts);
  EXPECT_EQ(r2.code, 554);
}

TEST(SslHelloCheck, AlertIsL6OK) {
  ScriptServer s("", "", std::string("\x15\x03\x03\x00\x02\x02\x28", 7));
  config::HealthCheckDef d;
  d.type = config::HealthCheckDef::Type::SslHello;
  EXPECT_EQ(run_once(s.port(), d).status, CheckStatus::L6Ok);
}

}  // namespace
}  // namespace sluice::checks
