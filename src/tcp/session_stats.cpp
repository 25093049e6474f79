// The runtime API's view of a TCP session (`show sess`).

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>

#include "tcp/session.h"

namespace sluice::tcp {

void TcpSession::describe(std::string& out, std::int64_t now_ms) const {
  char addr[INET6_ADDRSTRLEN] = "unix";
  unsigned port = 0;
  const char* proto = "unix_stream";
  if (peer_.ss_family == AF_INET) {
    auto& a = reinterpret_cast<const sockaddr_in&>(peer_);
    ::inet_ntop(AF_INET, &a.sin_addr, addr, sizeof addr);
    port = ntohs(a.sin_port);
    proto = "tcpv4";
  } else if (peer_.ss_family == AF_INET6) {
    auto& a = reinterpret_cast<const sockaddr_in6&>(peer_);
    ::inet_ntop(AF_INET6, &a.sin6_addr, addr, sizeof addr);
    port = ntohs(a.sin6_port);
    proto = "tcpv6";
  }
  char line[512];
  std::snprintf(line, sizeof line, "%p: proto=%s src=%s:%u fe=%s be=%s srv=%s age=%llds\n",
                static_cast<const void*>(this), proto, addr, port,
                fe_ ? fe_->name().c_str() : "<NONE>", be_ ? be_->name().c_str() : "<NONE>",
                last_srv_ ? last_srv_->name().c_str() : "<none>",
                static_cast<long long>((now_ms - t_accept_) / 1000));
  out += line;
}

}  // namespace sluice::tcp
