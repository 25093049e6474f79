#include "runtime/state_save.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sluice::runtime {

namespace {
std::string errno_text(int e) {
  char buf[128];
  return strerror_r(e, buf, sizeof buf);
}
}  // namespace

Result<std::string> fetch_server_state(const config::Global& running, int timeout_ms) {
  if (running.stats_sockets.empty()) return make_error("no stats socket to ask");
  const config::Address& a = running.stats_sockets.front().addr;
  const int fd = ::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("socket: " + errno_text(errno));
  auto fail = [fd](const std::string& why) -> Result<std::string> {
    ::close(fd);
    return make_error(why);
  };
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) != 0)
    return fail("cannot connect to the stats socket " + a.text + ": " + errno_text(errno));
  const std::string cmd = "show servers state\n";
  if (::send(fd, cmd.data(), cmd.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(cmd.size()))
    return fail("cannot send to the stats socket: " + errno_text(errno));
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return fail("no complete answer from the stats socket in time");
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[16384];
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail("read: " + errno_text(errno));
    if (r == 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fd);
  if (out.rfind("1\n", 0) != 0)
    return make_error("unexpected answer to 'show servers state': " + out.substr(0, 80));
  // The CLI ends an answer with a blank line; the file does not need it.
  while (out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0) out.pop_back();
  return out;
}

Result<void> write_state_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("cannot create '" + tmp + "': " + errno_text(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error("cannot write '" + tmp + "': " + errno_text(e));
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return make_error("cannot write '" + tmp + "': " + errno_text(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return make_error("cannot rename '" + tmp + "' to '" + path + "': " + errno_text(e));
  }
  return {};
}

}  // namespace sluice::runtime
