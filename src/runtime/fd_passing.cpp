#include "runtime/fd_passing.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sluice::runtime {

namespace {

constexpr std::size_t kMaxPassed = 253;  // SCM_MAX_FD: descriptors one message can carry
constexpr std::size_t kBatch = 200;      // below it
using Clock = std::chrono::steady_clock;

std::string errno_text(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}

int left_ms(Clock::time_point deadline) {
  auto l = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return l > 0 ? static_cast<int>(l) : 0;
}

bool wait_for(int fd, short ev, Clock::time_point deadline) {
  for (;;) {
    const int ms = left_ms(deadline);
    if (ms <= 0) return false;
    pollfd p{fd, ev, 0};
    const int n = ::poll(&p, 1, ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

Result<void> send_msg(int fd, const char* data, std::size_t len, const int* fds, std::size_t nfds,
                      Clock::time_point deadline) {
  std::size_t done = 0;
  bool fds_sent = nfds == 0;
  while (done < len) {
    const ssize_t n = send_with_fds(fd, data + done, len - done, fds, fds_sent ? 0 : nfds,
                                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      fds_sent = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && wait_for(fd, POLLOUT, deadline)) continue;
    return make_error("sending the listening sockets: " +
                      (n < 0 ? errno_text(errno) : std::string("timeout")));
  }
  return {};
}

// A blocking UNIX stream connection to `path` (close-on-exec).
Result<int> connect_unix(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return make_error("socket path too long: " + path);
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("socket: " + errno_text(errno));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error("cannot connect to '" + path + "': " + errno_text(e));
  }
  return fd;
}

}  // namespace

ssize_t send_with_fds(int fd, const char* data, std::size_t len, const int* fds, std::size_t nfds,
                      int flags) {
  iovec iov{const_cast<char*>(data), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxPassed)];
  if (nfds > kMaxPassed) {
    errno = EINVAL;
    return -1;
  }
  if (nfds > 0) {
    std::memset(ctl, 0, CMSG_SPACE(sizeof(int) * nfds));
    msg.msg_control = ctl;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  return ::sendmsg(fd, &msg, flags);
}

ssize_t recv_with_fds(int fd, char* buf, std::size_t len, int flags,
                      const std::function<void(int)>& on_fd, int* msg_flags) {
  iovec iov{buf, len};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * kMaxPassed)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  const ssize_t n = ::recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  if (msg_flags != nullptr) *msg_flags = msg.msg_flags;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < k; ++i) {
      int f;
      std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
      on_fd(f);
    }
  }
  return n;
}

Result<void> send_listening_fds(int fd, const KeyedFds& fds) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  std::string text = std::to_string(fds.size()) + "\n";
  for (const auto& [key, _] : fds) text += key + "\n";
  if (auto r = send_msg(fd, text.data(), text.size(), nullptr, 0, deadline); !r) return r;
  std::vector<int> all;
  for (const auto& kv : fds) all.push_back(kv.second);
  for (std::size_t i = 0; i < all.size(); i += kBatch) {
    const std::size_t n = std::min(kBatch, all.size() - i);
    if (auto r = send_msg(fd, "F", 1, all.data() + i, n, deadline); !r) return r;
  }
  return {};
}

Result<void> offer_handoff_channel(const std::string& path, int chan, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  Result<int> conn = connect_unix(path);
  if (!conn) return make_error(conn.error());
  const int fd = *conn;
  auto fail = [&](const std::string& why) -> Result<void> {
    ::close(fd);
    return make_error(why);
  };
  const char cmd[] = "_handoff\n";
  if (auto r = send_msg(fd, cmd, sizeof cmd - 1, &chan, 1, deadline); !r) return fail(r.error());
  std::string answer;
  while (answer.find('\n') == std::string::npos && answer.size() < 512) {
    if (!wait_for(fd, POLLIN, deadline)) return fail("no answer from '" + path + "'");
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  answer = answer.substr(0, answer.find('\n'));
  if (answer != "OK") return make_error("'" + path + "' refused: " + answer);
  return {};
}

Result<KeyedFds> fetch_listening_fds(const std::string& path, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  Result<int> conn = connect_unix(path);
  if (!conn) return make_error(conn.error());
  const int fd = *conn;
  std::vector<int> got;
  auto fail = [&](const std::string& why) -> Result<KeyedFds> {
    for (int f : got) ::close(f);
    ::close(fd);
    return make_error(why);
  };
  const char cmd[] = "_getsocks\n";
  if (::send(fd, cmd, sizeof cmd - 1, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof cmd - 1))
    return fail("cannot send to '" + path + "': " + errno_text(errno));
  std::string data;
  std::size_t want = 0;
  bool header = false;
  std::vector<std::string> keys;
  for (;;) {
    if (header) {
      std::size_t fbytes = data.size();  // bytes after the key lines are 'F' markers
      if (got.size() >= want && fbytes >= (want + kBatch - 1) / kBatch) break;
    }
    if (!wait_for(fd, POLLIN, deadline)) return fail("no complete answer from '" + path + "'");
    char buf[4096];
    int mflags = 0;
    const ssize_t n = recv_with_fds(
        fd, buf, sizeof buf, 0, [&got](int f) { got.push_back(f); }, &mflags);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("reading from '" + path + "': " + errno_text(errno));
    if (mflags & MSG_CTRUNC) return fail("descriptors lost (truncated control data)");
    if (n == 0) {
      if (!header || got.size() < want) {
        std::string why = data.substr(0, data.find('\n'));
        return fail("'" + path + "' did not pass its listening sockets" +
                    (why.empty() ? std::string() : ": " + why));
      }
      break;
    }
    data.append(buf, static_cast<std::size_t>(n));
    if (!header) {
      // "<n>\n" and n key lines.
      std::size_t nl = data.find('\n');
      if (nl == std::string::npos) continue;
      const std::string first = data.substr(0, nl);
      if (first.empty() || first.find_first_not_of("0123456789") != std::string::npos)
        return fail("'" + path + "' refused: " + first);
      want = std::stoul(first);
      std::size_t pos = nl + 1;
      std::vector<std::string> lines;
      while (lines.size() < want) {
        std::size_t e = data.find('\n', pos);
        if (e == std::string::npos) break;
        lines.push_back(data.substr(pos, e - pos));
        pos = e + 1;
      }
      if (lines.size() < want) continue;
      keys = std::move(lines);
      data.erase(0, pos);
      header = true;
    }
  }
  if (got.size() != want)
    return fail("got " + std::to_string(got.size()) + " sockets for " + std::to_string(want) +
                " addresses");
  ::close(fd);
  KeyedFds out;
  for (std::size_t i = 0; i < want; ++i) out.emplace_back(keys[i], got[i]);
  return out;
}

}  // namespace sluice::runtime
