#include "log/logger.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <regex>
#include <string>

namespace sluice::log {
namespace {

// A UDP "syslog server" on 127.0.0.1.
class Sink {
 public:
  Sink() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in);
    socklen_t len = sizeof in;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &len);
    std::memcpy(&addr_.storage, &in, sizeof in);
    addr_.length = sizeof in;
    addr_.text = "127.0.0.1:" + std::to_string(ntohs(in.sin_port));
  }
  ~Sink() { close(fd_); }
  config::LogTarget target(config::LogFormat format, int facility = 16) const {
    config::LogTarget t;
    t.kind = config::LogTarget::Kind::Udp;
    t.addr = addr_;
    t.format = format;
    t.facility = facility;
    return t;
  }
  // Next datagram, or "" after 1 s.
  std::string recv() const {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 1000) != 1) return "";
    char buf[70000];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }
  bool quiet() const {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 50) == 0;
  }

 private:
  int fd_;
  config::Address addr_;
};

std::vector<config::LogTarget> one(config::LogTarget t) { return {std::move(t)}; }

const std::string kPid = std::to_string(getpid());
const char* kIso = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d)";

void expect_match(const std::string& got, const std::string& re) {
  EXPECT_TRUE(std::regex_match(got, std::regex(re))) << "got: " << got << "\nwant: " << re;
}

TEST(Logger, Rfc3164WithoutHostnameIsHaproxyDefault) {
  Sink s;
  Logger l(one(s.target(config::LogFormat::Rfc3164)), "haproxy");
  l.send(Level::Info, "hello world");
  // <134>Nov 23 08:46:21 haproxy[11366]: hello world\n
  expect_match(s.recv(), R"(<134>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d haproxy\[)" + kPid +
                             R"(\]: hello world\n)");
  EXPECT_EQ(l.dropped(), 0U);
}

TEST(Logger, Rfc3164WithHostname) {
  Sink s;
  Logger l(one(s.target(config::LogFormat::Rfc3164, 17)), "sluice", "lb1");
  l.send(Level::Info, "x");
  expect_match(s.recv(), R"(<142>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d lb1 sluice\[)" + kPid +
                             R"(\]: x\n)");
}

TEST(Logger, Rfc5424) {
  Sink s;
  Logger l(one(s.target(config::LogFormat::Rfc5424, 18)), "haproxy");
  l.send(Level::Info, "msg");
  expect_match(s.recv(), "<150>1 " + std::string(kIso) + " - haproxy " + kPid + " - - msg\n");
  Logger h(one(s.target(config::LogFormat::Rfc5424, 18)), "haproxy", "lb1");
  h.send(Level::Warning, "msg");
  expect_match(s.recv(), "<148>1 " + std::string(kIso) + " lb1 haproxy " + kPid + " - - msg\n");
}

TEST(Logger, ShortTimedIsoRaw) {
  Sink s;
  Logger l({s.target(config::LogFormat::Short, 19), s.target(config::LogFormat::Timed, 20),
            s.target(config::LogFormat::Iso, 21), s.target(config::LogFormat::Raw, 22)},
           "haproxy");
  l.send(Level::Info, "m");
  EXPECT_EQ(s.recv(), "<6>m\n");
  expect_match(s.recv(), "<6>" + std::string(kIso) + " m\n");
  expect_match(s.recv(), std::string(kIso) + " m\n");
  EXPECT_EQ(s.recv(), "m\n");
}

TEST(Logger, TruncatesWholeDatagramToMaxLength) {
  Sink s;
  auto t = s.target(config::LogFormat::Rfc3164);
  t.max_length = 80;
  Logger l(one(t), "haproxy");
  const std::string long_line(200, 'a');
  l.send(Level::Warning, long_line);
  const std::string got = s.recv();
  EXPECT_EQ(got.size(), 80U);
  EXPECT_EQ(got.back(), '\n');
  EXPECT_EQ(got.substr(got.size() - 4), "aaa\n");

  auto r = s.target(config::LogFormat::Raw);
  r.max_length = 10;
  Logger raw(one(r), "x");
  raw.send(Level::Info, "0123456789abcdef");
  EXPECT_EQ(s.recv(), "012345678\n");
}

TEST(Logger, MaxLevelFiltersMinLevelCaps) {
  Sink s;
  auto t = s.target(config::LogFormat::Short);
  t.max_level = static_cast<int>(Level::Info);  // debug is not sent
  t.min_level = static_cast<int>(Level::Notice);  // emerg..warning are sent as notice
  Logger l(one(t), "haproxy");
  EXPECT_TRUE(l.wants(Level::Info));
  EXPECT_FALSE(l.wants(Level::Debug));
  l.send(Level::Debug, "dbg");
  EXPECT_TRUE(s.quiet());
  l.send(Level::Info, "info");
  EXPECT_EQ(s.recv(), "<6>info\n");
  l.send(Level::Emerg, "panic");
  EXPECT_EQ(s.recv(), "<5>panic\n");
  l.send(Level::Warning, "warn");
  EXPECT_EQ(s.recv(), "<5>warn\n");
}

TEST(Logger, UnixDatagramTargetAndDropsWhenNobodyListens) {
  char dir[] = "/tmp/sluice-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/log";
  config::LogTarget t;
  t.kind = config::LogTarget::Kind::UnixDgram;
  auto& un = reinterpret_cast<sockaddr_un&>(t.addr.storage);
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
  t.addr.length = sizeof un;
  t.format = config::LogFormat::Short;
  Logger l(one(t), "sluice");
  l.send(Level::Err, "nobody");  // no socket yet: dropped, counted, no block
  EXPECT_EQ(l.dropped(), 1U);

  int srv = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&un), sizeof un), 0);
  l.send(Level::Err, "somebody");
  char buf[100];
  const ssize_t n = recv(srv, buf, sizeof buf, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n > 0 ? n : 0)), "<3>somebody\n");
  close(srv);
  unlink(path.c_str());
  rmdir(dir);
}

TEST(Logger, StdoutOneWritePerLineNotTruncated) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  fflush(stdout);
  const int saved = dup(1);
  dup2(p[1], 1);
  config::LogTarget t;
  t.kind = config::LogTarget::Kind::Stdout;
  t.format = config::LogFormat::Raw;
  t.max_length = 5;
  {
    Logger l(one(t), "sluice");
    l.send(Level::Info, "first line");
    l.send(Level::Info, "second");
  }
  dup2(saved, 1);
  close(saved);
  close(p[1]);
  char buf[100];
  const ssize_t n = read(p[0], buf, sizeof buf);
  close(p[0]);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n > 0 ? n : 0)), "first line\nsecond\n");
}

TEST(Logger, MoveKeepsTargetsAndEmptyLoggerIsSilent) {
  Sink s;
  Logger a(one(s.target(config::LogFormat::Raw)), "t");
  Logger b(std::move(a));
  EXPECT_FALSE(b.empty());
  b.send(Level::Info, "moved");
  EXPECT_EQ(s.recv(), "moved\n");
  Logger c;
  EXPECT_TRUE(c.empty());
  c = std::move(b);
  c.send(Level::Info, "again");
  EXPECT_EQ(s.recv(), "again\n");
  Logger none;
  none.send(Level::Emerg, "nothing");
  EXPECT_EQ(none.dropped(), 0U);
}

TEST(LevelName, AllEight) {
  EXPECT_EQ(level_name(Level::Emerg), "emerg");
  EXPECT_EQ(level_name(Level::Warning), "warning");
  EXPECT_EQ(level_name(Level::Debug), "debug");
}

}  // namespace
}  // namespace sluice::log
