// `cookie NAME ... dynamic` with `dynamic-cookie-key KEY`: a server written
// without its own `cookie VALUE` gets one derived from the key and its
// address, so that every load balancer sharing the key gives the same
// server the same cookie. As in HAProxy: XXH64 (seed 0) over the key's
// bytes, the address in network order (4 or 16 bytes) and the port as a
// 32-bit big-endian number, printed as 16 lowercase hex digits. Only IPv4
// and IPv6 servers get one.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <xxhash.h>

#include <cstdio>
#include <cstring>
#include <map>

#include "config/parser.h"

namespace sluice::config {

std::string dynamic_cookie_value(std::string_view key, const Address& addr) {
  const unsigned char* ip = nullptr;
  std::size_t ip_len = 0;
  if (addr.family() == AF_INET) {
    ip = reinterpret_cast<const unsigned char*>(
        &reinterpret_cast<const sockaddr_in&>(addr.storage).sin_addr);
    ip_len = 4;
  } else if (addr.family() == AF_INET6) {
    ip = reinterpret_cast<const unsigned char*>(
        &reinterpret_cast<const sockaddr_in6&>(addr.storage).sin6_addr);
    ip_len = 16;
  } else {
    return {};
  }
  std::string data;  // key + address + port; keys are short, but need not be
  data.reserve(key.size() + ip_len + 4);
  data.append(key);
  data.append(reinterpret_cast<const char*>(ip), ip_len);
  const std::uint32_t port = htonl(addr.port());
  data.append(reinterpret_cast<const char*>(&port), 4);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(XXH64(data.data(), data.size(), 0)));
  return std::string(hex, 16);
}

void assign_dynamic_cookies(Proxy& p, std::vector<Diagnostic>& warnings) {
  if (!p.cookie.dynamic || p.dynamic_cookie_key.empty() || p.cookie.name.empty()) return;
  std::map<std::string, const ServerDef*> seen;
  for (const ServerDef& s : p.servers)
    if (!s.cookie.empty()) seen.emplace(s.cookie, &s);
  for (ServerDef& s : p.servers) {
    if (!s.cookie.empty()) continue;
    s.cookie = dynamic_cookie_value(p.dynamic_cookie_key, s.addr);
    if (s.cookie.empty()) continue;
    auto [it, fresh] = seen.emplace(s.cookie, &s);
    if (!fresh)
      warnings.push_back(Diagnostic{
          s.loc, "cookie",
          "servers '" + it->second->name + "' and '" + s.name + "' of proxy '" + p.name +
              "' have the same dynamic cookie; change 'dynamic-cookie-key' or an address"});
  }
}

}  // namespace sluice::config
