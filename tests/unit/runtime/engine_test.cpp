// End-to-end in one process: an Engine built from a hand-made Model, real
// loopback sockets, a tiny echo server, a UDP socket collecting log lines.
#include "runtime/engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace sluice::runtime {
namespace {

using namespace std::chrono_literals;

config::Address addr(std::uint16_t port) {
  config::Address a;
  auto& in = reinterpret_cast<sockaddr_in&>(a.storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.length = sizeof(sockaddr_in);
  a.text = "127.0.0.1:" + std::to_string(port);
  return a;
}

std::uint16_t local_port(int fd) {
  sockaddr_in in{};
  socklen_t len = sizeof in;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  return ntohs(in.sin_port);
}

// A port nobody listens on (bound then closed).
std::uint16_t dead_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = addr(0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a.storage), a.length);
  std::uint16_t p = local_port(fd);
  ::close(fd);
  return p;
}

// Echo server: echoes until EOF, then closes. Counts accepted connections.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = addr(0);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a.storage), a.length);
    ::listen(fd_, 64);
    port_ = local_port(fd_);
    thread_ = std::thread([this] { run(); });
  }
  ~EchoServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (auto& t : conns_) t.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  void set_hold(bool h) { hold_ = h; }

 private:
  void run() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++accepted_;
      conns_.emplace_back([this, c] {
        char buf[65536];
        for (;;) {
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          while (hold_ && !stop_) std::this_thread::sleep_for(5ms);
          ::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL);
        }
        ::close(c);
      });
    }
  }
  int fd_;
  std::uint16_t port_;
  std::thread thread_;
  std::vector<std::thread> conns_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> hold_{false};
  std::atomic<int> accepted_{0};
};

class LogSink {
 public:
  LogSink() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    auto a = addr(0);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a.storage), a.length);
    port_ = local_port(fd_);
  }
  ~LogSink() { ::close(fd_); }
  config::LogTarget target() const {
    config::LogTarget t;
    t.kind = config::LogTarget::Kind::Udp;
    t.addr = addr(port_);
    t.format = config::LogFormat::Raw;
    return t;
  }
  // Next line containing `needle`, waiting up to `wait`.
  std::string wait_for(const std::string& needle, std::chrono::milliseconds wait = 3000ms) {
    auto end = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[2048];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string line(buf, static_cast<std::size_t>(n));
      lines_.push_back(line);
      if (line.find(needle) != std::string::npos) return line;
    }
    return {};
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  int fd_;
  std::uint16_t port_;
  std::vector<std::string> lines_;
};

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = addr(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a.storage), a.length) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

struct Fixture {
  config::Model model;
  LogSink logs;
  std::uint16_t port = 0;
  log::Logger global_logger;
  std::unique_ptr<Engine> engine;

  config::Proxy& listen(const std::string& name) {
    config::Proxy p;
    p.name = name;
    p.id = static_cast<int>(model.proxies.size()) + 1;
    p.cap = config::ProxyCap::Listen;
    port = dead_port();
    config::Bind b;
    b.addrs.push_back(addr(port));
    p.binds.push_back(b);
    p.tcplog = true;
    p.logs.push_back(logs.target());
    p.timeouts.connect = 1000ms;
    p.timeouts.client = 5000ms;
    p.timeouts.server = 5000ms;
    model.proxies.push_back(p);
    return model.proxies.back();
  }
  static config::ServerDef server(const std::string& name, std::uint16_t port, int id) {
    config::ServerDef s;
    s.name = name;
    s.id = id;
    s.addr = addr(port);
    return s;
  }
  void start(unsigned threads = 2) {
    model.global.nbthread = threads;
    auto r = Engine::create(model, global_logger);
    ASSERT_TRUE(r.ok()) << r.error();
    engine = std::move(r.value());
    engine->start();
  }
  ~Fixture() {
    if (engine) {
      engine->hard_stop();
      engine->wait();
    }
  }
};

TEST(Engine, RelaysAndHalfCloses) {
  EchoServer echo;
  Fixture f;
  auto& p = f.listen("li");
  p.servers.push_back(Fixture::server("s1", echo.port(), 1));
  f.start();
  int c = connect_to(f.port);
  ASSERT_GE(c, 0);
  std::string payload(200000, 'x');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] {
    ::send(c, payload.data(), payload.size(), MSG_NOSIGNAL);
    ::shutdown(c, SHUT_WR);  // our FIN must reach the server after the data
  });
  std::string got = read_all(c);  // the echo server closes after our FIN
  writer.join();
  ::close(c);
  EXPECT_EQ(got.size(), payload.size());
  EXPECT_TRUE(got == payload);
  std::string line = f.logs.wait_for("li li/s1");
  EXPECT_NE(line.find(" -- "), std::string::npos) << line;
  EXPECT_NE(line.find(" 200000 "), std::string::npos) << line;
}

TEST(Engine, RefusedServerRetriesThenSC) {
  Fixture f;
  auto& p = f.listen("li");
  p.retries = 1;
  p.timeouts.connect = 100ms;  // turn-around is min(connect, 1s)
  p.servers.push_back(Fixture::server("s1", dead_port(), 1));
  f.start();
  int c = connect_to(f.port);
  ASSERT_GE(c, 0);
  EXPECT_EQ(read_all(c), "");
  ::close(c);
  std::string line = f.logs.wait_for("li li/s1");
  EXPECT_NE(line.find(" SC "), std::string::npos) << line;
  EXPECT_NE(line.find("/1 0/0"), std::string::npos) << line;  // one retry
}

TEST(Engine, RedispatchGoesToAnotherServer) {
  EchoServer echo;
  Fixture f;
  auto& p = f.listen("li");
  p.retries = 3;
  p.redispatch = true;
  p.redispatch_interval = -1;
  p.servers.push_back(Fixture::server("dead", dead_port(), 1));
  p.servers.push_back(Fixture::server("live", echo.port(), 2));
  f.start(1);
  for (int i = 0; i < 2; ++i) {
    int c = connect_to(f.port);
    ASSERT_GE(c, 0);
    ::send(c, "ping", 4, 0);
    ::shutdown(c, SHUT_WR);
    EXPECT_EQ(read_all(c), "ping");
    ::close(c);
  }
  std::string line = f.logs.wait_for("+1");
  EXPECT_NE(line.find("li/live"), std::string::npos) << line;
}

TEST(Engine, QueueTimeoutIsSQWithCleanClose) {
  EchoServer echo;
  echo.set_hold(true);
  Fixture f;
  auto& p = f.listen("li");
  p.timeouts.queue = 300ms;
  auto s = Fixture::server("s1", echo.port(), 1);
  s.maxconn = 1;
  p.servers.push_back(s);
  f.start();
  int c1 = connect_to(f.port);
  ::send(c1, "a", 1, 0);
  std::this_thread::sleep_for(100ms);
  int c2 = connect_to(f.port);
  ::send(c2, "b", 1, 0);
  char buf[8];
  ssize_t n = ::recv(c2, buf, sizeof buf, 0);
  EXPECT_EQ(n, 0);  // FIN, not a reset
  std::string line = f.logs.wait_for(" sQ ");
  EXPECT_NE(line.find("li/<NOSRV>"), std::string::npos) << line;
  echo.set_hold(false);
  ::close(c1);
  ::close(c2);
}

TEST(Engine, QueuedSessionGetsTheFreedSlot) {
  EchoServer echo;
  Fixture f;
  auto& p = f.listen("li");
  p.timeouts.queue = 3000ms;
  auto s = Fixture::server("s1", echo.port(), 1);
  s.maxconn = 1;
  p.servers.push_back(s);
  f.start(2);
  int c1 = connect_to(f.port);
  ::send(c1, "1", 1, 0);
  char b;
  ASSERT_EQ(::recv(c1, &b, 1, 0), 1);
  std::vector<int> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(connect_to(f.port));
    ::send(waiting.back(), "w", 1, 0);
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(echo.accepted(), 1);
  ::shutdown(c1, SHUT_WR);
  read_all(c1);
  ::close(c1);
  // Across threads the queue order is the enqueue order, not the connect
  // order: serve every waiter concurrently.
  std::vector<std::thread> served;
  std::atomic<int> ok{0};
  for (int w : waiting) {
    served.emplace_back([w, &ok] {
      char c;
      if (::recv(w, &c, 1, 0) == 1) ++ok;
      ::shutdown(w, SHUT_WR);
      read_all(w);
      ::close(w);
    });
  }
  for (auto& t : served) t.join();
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(echo.accepted(), 4);
}

TEST(Engine, ClientTimeoutIsCD) {
  EchoServer echo;
  Fixture f;
  auto& p = f.listen("li");
  p.timeouts.client = 200ms;
  p.servers.push_back(Fixture::server("s1", echo.port(), 1));
  f.start();
  int c = connect_to(f.port);
  ::send(c, "x", 1, 0);
  std::string got = read_all(c);
  EXPECT_EQ(got, "x");
  ::close(c);
  std::string line = f.logs.wait_for(" cD ");
  EXPECT_FALSE(line.empty());
}

TEST(Engine, SpliceRelays) {
  EchoServer echo;
  Fixture f;
  auto& p = f.listen("li");
  p.splice_request = p.splice_response = true;
  p.servers.push_back(Fixture::server("s1", echo.port(), 1));
  f.start(1);
  int c = connect_to(f.port);
  std::string payload(1 << 20, 'q');
  std::thread writer([&] {
    ::send(c, payload.data(), payload.size(), MSG_NOSIGNAL);
    ::shutdown(c, SHUT_WR);
  });
  std::string got = read_all(c);
  writer.join();
  ::close(c);
  EXPECT_EQ(got.size(), payload.size());
}

TEST(Engine, FailsOverToBackupWhenCheckFails) {
  EchoServer echo;
  Fixture f;
  auto& p = f.listen("li");
  auto s1 = Fixture::server("s1", dead_port(), 1);
  s1.check = true;
  s1.inter = 100ms;
  s1.fall = 1;
  p.servers.push_back(s1);
  auto b1 = Fixture::server("b1", echo.port(), 2);
  b1.backup = true;
  p.servers.push_back(b1);
  f.start();
  std::string down = f.logs.wait_for("is DOWN");
  EXPECT_NE(down.find("Server li/s1 is DOWN, reason: Layer4 connection problem, info: "
                      "\"Connection refused\""),
            std::string::npos)
      << down;
  EXPECT_NE(down.find("0 active and 1 backup servers left. Running on backup."),
            std::string::npos)
      << down;
  int c = connect_to(f.port);
  ::send(c, "hi", 2, 0);
  ::shutdown(c, SHUT_WR);
  EXPECT_EQ(read_all(c), "hi");
  ::close(c);
  EXPECT_FALSE(f.logs.wait_for("li/b1").empty());
}

TEST(Engine, BindErrorIsAResult) {
  int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = addr(0);
  ::bind(blocker, reinterpret_cast<sockaddr*>(&a.storage), a.length);
  ::listen(blocker, 1);
  config::Model m;
  config::Proxy p;
  p.name = "fe";
  p.cap = config::ProxyCap::Listen;
  config::Bind b;
  b.addrs.push_back(addr(local_port(blocker)));
  p.binds.push_back(b);
  m.proxies.push_back(p);
  log::Logger lg;
  auto r = Engine::create(m, lg);
  EXPECT_FALSE(r.ok());
  if (!r.ok()) {
    EXPECT_NE(r.error().find("cannot bind"), std::string::npos) << r.error();
  }
  ::close(blocker);
}

TEST(Engine, SoftStopLetsSessionsFinish) {
  EchoServer echo;
  Fixture f;
  auto& p = f.listen("li");
  p.servers.push_back(Fixture::server("s1", echo.port(), 1));
  f.start(2);
  int c = connect_to(f.port);
  ::send(c, "a", 1, 0);
  char b;
  ASSERT_EQ(::recv(c, &b, 1, 0), 1);
  f.engine->soft_stop();
  std::this_thread::sleep_for(100ms);
  EXPECT_LT(connect_to(f.port), 0);  // listeners closed
  ::send(c, "b", 1, 0);
  ASSERT_EQ(::recv(c, &b, 1, 0), 1);
  EXPECT_EQ(b, 'b');
  ::shutdown(c, SHUT_WR);
  read_all(c);
  ::close(c);
  f.engine->wait();  // ends by itself once the session is gone
  f.engine.reset();
}

}  // namespace
}  // namespace sluice::runtime
