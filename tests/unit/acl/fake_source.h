#pragma once
// A SampleSource the tests fill by hand.

#include <arpa/inet.h>

#include <cstring>
#include <map>
#include <string>

#include "acl/sample.h"

namespace sluice::acl::testing {

inline sockaddr_storage make_addr(const char* ip, std::uint16_t port) {
  sockaddr_storage ss{};
  if (std::strchr(ip, ':') != nullptr) {
    auto& a = reinterpret_cast<sockaddr_in6&>(ss);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a.sin6_addr);
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
  }
  return ss;
}

class FakeSource final : public SampleSource {
 public:
  const sockaddr_storage* source() const override { return has_src ? &src : nullptr; }
  const sockaddr_storage* destination() const override { return has_dst ? &dst : nullptr; }
  std::optional<std::int64_t> frontend_conns(const ProxyRef& p) const override {
    return lookup(fe_conns, p);
  }
  std::optional<std::int64_t> backend_conns(const ProxyRef& p) const override {
    return lookup(be_conns, p);
  }
  std::optional<std::int64_t> usable_servers(const ProxyRef& p) const override {
    return lookup(nbsrv, p);
  }
  std::optional<std::int64_t> connslots(const ProxyRef& p) const override {
    return lookup(slots, p);
  }
  std::optional<std::int64_t> server_conns(const ServerRef& s) const override {
    last_server_id = s.id;
    last_proxy_id = s.backend.id;
    auto it = srv_conns.find(std::string(s.backend.name) + "/" + std::string(s.name));
    if (it == srv_conns.end()) return {};
    return it->second;
  }
  std::optional<bool> server_is_up(const ServerRef& s) const override {
    auto it = srv_up.find(std::string(s.backend.name) + "/" + std::string(s.name));
    if (it == srv_up.end()) return {};
    return it->second;
  }
  std::optional<std::int64_t> frontend_id() const override { return fe_id; }
  std::optional<std::int64_t> backend_id() const override { return be_id; }

  void set_src(const char* ip, std::uint16_t port) {
    src = make_addr(ip, port);
    has_src = true;
  }
  void set_dst(const char* ip, std::uint16_t port) {
    dst = make_addr(ip, port);
    has_dst = true;
  }

  sockaddr_storage src{};
  sockaddr_storage dst{};
  bool has_src = false;
  bool has_dst = false;
  // key "" is the current proxy
  std::map<std::string, std::int64_t, std::less<>> fe_conns, be_conns, nbsrv, slots;
  std::map<std::string, std::int64_t, std::less<>> srv_conns;
  std::map<std::string, bool, std::less<>> srv_up;
  std::optional<std::int64_t> fe_id, be_id;
  mutable int last_server_id = -1;
  mutable int last_proxy_id = -1;

 private:
  static std::optional<std::int64_t> lookup(
      const std::map<std::string, std::int64_t, std::less<>>& m, const ProxyRef& p) {
    auto it = m.find(p.name);
    if (it == m.end()) return {};
    return it->second;
  }
};

}  // namespace sluice::acl::testing
