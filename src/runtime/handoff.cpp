#include "runtime/handoff.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/fd_passing.h"

namespace sluice::runtime {

namespace {

// Wire layout: magic, kind, requests, peer length, proxy name length,
// server name length, peer bytes (sockaddr_storage, whole), proxy name,
// server name. Integers in host order: both ends are the same program on
// the same host.
constexpr char kMagic[4] = {'S', 'L', 'H', '2'};
constexpr std::size_t kFixed = 6 * 4 + sizeof(sockaddr_storage);
constexpr std::size_t kMaxMsg = kFixed + 2 * kHandoffMaxName;

void put32(char* p, std::uint32_t v) {
  std::memcpy(p, &v, 4);
}
std::uint32_t get32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

bool known_kind(std::uint32_t k) {
  return k == static_cast<std::uint32_t>(HandoffKind::Client) ||
         k == static_cast<std::uint32_t>(HandoffKind::Server);
}

}  // namespace

HandoffSend handoff_send(int chan, int fd, const HandoffMeta& m) {
  const bool server = m.kind == HandoffKind::Server;
  if (chan < 0 || fd < 0 || !known_kind(static_cast<std::uint32_t>(m.kind)) || m.proxy.empty() ||
      m.proxy.size() > kHandoffMaxName || server == m.server.empty() ||
      m.server.size() > kHandoffMaxName || m.peer_len > sizeof(sockaddr_storage))
    return HandoffSend::Broken;
  char buf[kMaxMsg];
  std::memcpy(buf, kMagic, 4);
  put32(buf + 4, static_cast<std::uint32_t>(m.kind));
  put32(buf + 8, m.requests);
  put32(buf + 12, static_cast<std::uint32_t>(m.peer_len));
  put32(buf + 16, static_cast<std::uint32_t>(m.proxy.size()));
  put32(buf + 20, static_cast<std::uint32_t>(m.server.size()));
  std::memcpy(buf + 24, &m.peer, sizeof(sockaddr_storage));
  std::memcpy(buf + kFixed, m.proxy.data(), m.proxy.size());
  std::memcpy(buf + kFixed + m.proxy.size(), m.server.data(), m.server.size());
  const std::size_t len = kFixed + m.proxy.size() + m.server.size();
  for (;;) {
    const ssize_t n = send_with_fds(chan, buf, len, &fd, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(len)) return HandoffSend::Sent;
    if (n < 0 && errno == EINTR) continue;
    // ENOBUFS/ENOMEM: memory for the message is short right now.
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == ENOMEM))
      return HandoffSend::Full;
    return HandoffSend::Broken;  // EPIPE, ECONNRESET, EBADF...; a short send cannot happen
  }
}

namespace {
constexpr char kFrontendsMagic[4] = {'S', 'L', 'F', '1'};
}  // namespace

bool handoff_send_frontends(int chan, const std::vector<std::string>& names) {
  std::string msg(kFrontendsMagic, 4);
  for (const auto& n : names) {
    if (n.empty() || n.size() > kHandoffMaxName || n.find('\n') != std::string::npos) continue;
    msg += n;
    msg += '\n';
  }
  for (;;) {
    const ssize_t w = ::send(chan, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == EINTR) continue;
    return w == static_cast<ssize_t>(msg.size());
  }
}

bool handoff_read_frontends(int chan, std::vector<std::string>& names) {
  names.clear();
  std::string buf(1 << 20, '\0');
  int closed = 0;
  auto drop = [&closed](int f) {  // nothing with descriptors belongs here
    ::close(f);
    ++closed;
  };
  int mflags = 0;
  ssize_t n;
  do {
    n = recv_with_fds(chan, buf.data(), buf.size(), MSG_DONTWAIT, drop, &mflags);
  } while (n < 0 && errno == EINTR);
  if (n < 4 || closed > 0 || (mflags & MSG_TRUNC) != 0 ||
      std::memcmp(buf.data(), kFrontendsMagic, 4) != 0)
    return false;
  std::size_t at = 4;
  const auto end = static_cast<std::size_t>(n);
  while (at < end) {
    const std::size_t nl = buf.find('\n', at);
    if (nl == std::string::npos || nl >= end) break;
    names.push_back(buf.substr(at, nl - at));
    at = nl + 1;
  }
  return true;
}

HandoffRecv handoff_receive(int chan, int& fd, HandoffMeta& m) {
  fd = -1;
  char buf[kMaxMsg + 1];
  // Every descriptor that came is ours now: keep one, close the rest.
  int got = -1;
  int extra = 0;
  auto take = [&](int f) {
    if (got < 0) {
      got = f;
    } else {
      ::close(f);
      ++extra;
    }
  };
  int mflags = 0;
  ssize_t n;
  do {
    n = recv_with_fds(chan, buf, sizeof buf, MSG_DONTWAIT, take, &mflags);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK ? HandoffRecv::Empty : HandoffRecv::Closed;
  if (n == 0) {  // the sender's end is closed (a message always has bytes)
    if (got >= 0) ::close(got);
    return HandoffRecv::Closed;
  }
  const auto len = static_cast<std::size_t>(n);
  bool ok = got >= 0 && extra == 0 && (mflags & (MSG_TRUNC | MSG_CTRUNC)) == 0 && len >= kFixed &&
            std::memcmp(buf, kMagic, 4) == 0;
  std::uint32_t kind = 0, peer_len = 0, proxy_len = 0, server_len = 0;
  if (ok) {
    kind = get32(buf + 4);
    peer_len = get32(buf + 12);
    proxy_len = get32(buf + 16);
    server_len = get32(buf + 20);
    const bool server = kind == static_cast<std::uint32_t>(HandoffKind::Server);
    ok = known_kind(kind) && peer_len <= sizeof(sockaddr_storage) && proxy_len > 0 &&
         proxy_len <= kHandoffMaxName && server_len <= kHandoffMaxName &&
         server == (server_len > 0) && len == kFixed + proxy_len + server_len;
  }
  if (!ok) {
    if (got >= 0) ::close(got);
    return HandoffRecv::Invalid;
  }
  m.kind = static_cast<HandoffKind>(kind);
  m.requests = get32(buf + 8);
  m.peer_len = static_cast<socklen_t>(peer_len);
  std::memcpy(&m.peer, buf + 24, sizeof(sockaddr_storage));
  m.proxy.assign(buf + kFixed, proxy_len);
  m.server.assign(buf + kFixed + proxy_len, server_len);
  fd = got;
  return HandoffRecv::Got;
}

}  // namespace sluice::runtime
