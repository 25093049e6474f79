#include "config/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

#include "config/values.h"

namespace sluice::config {
namespace {

std::string q(std::string_view s) { return "'" + std::string(s) + "'"; }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

void set_port(Address& a, std::uint16_t port) {
  if (a.storage.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in&>(a.storage).sin_port = htons(port);
  else if (a.storage.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(a.storage).sin6_port = htons(port);
}

bool plausible_hostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<void> resolve_host(std::string_view host, int family, const AddressOptions& opts,
                          Address& out) {
  std::string h(host);
  if (h.empty() || h == "*") {
    if (family == AF_INET6) {
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_addr = in6addr_any;
      std::memcpy(&out.storage, &sin6, sizeof sin6);
      out.length = sizeof sin6;
    } else {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_addr.s_addr = htonl(INADDR_ANY);
      std::memcpy(&out.storage, &sin, sizeof sin);
      out.length = sizeof sin;
    }
    return {};
  }
  sockaddr_in sin{};
  if (family != AF_INET6 && inet_pton(AF_INET, h.c_str(), &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    std::memcpy(&out.storage, &sin, sizeof sin);
    out.length = sizeof sin;
    return {};
  }
  sockaddr_in6 sin6{};
  if (family != AF_INET && inet_pton(AF_INET6, h.c_str(), &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    std::memcpy(&out.storage, &sin6, sizeof sin6);
    out.length = sizeof sin6;
    return {};
  }
  if (!plausible_hostname(h)) return make_error("invalid address " + q(host));
  if (!opts.resolve_hostnames) {
    if (h != "localhost") return make_error("could not resolve address " + q(host));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::memcpy(&out.storage, &sin, sizeof sin);
    out.length = sizeof sin;
    return {};
  }
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(h.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res)
    return make_error("could not resolve address " + q(host) + ": " + gai_strerror(rc));
  std::memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
  out.length = res->ai_addrlen;
  freeaddrinfo(res);
  return {};
}

Result<std::uint16_t> parse_port(std::string_view s, std::string_view whole) {
  auto r = parse_uint(s, 1, 65535);
  if (!r) return make_error("invalid port " + q(s) + " in " + q(whole) + " (expected 1..65535)");
  return static_cast<std::uint16_t>(*r);
}

}  // namespace

Result<ParsedAddress> parse_address(std::string_view text, AddrUse use,
                                    const AddressOptions& opts) {
  ParsedAddress out;
  out.addr.text = std::string(text);
  std::string_view s = text;
  int family = AF_UNSPEC;
  bool unix_path = false;

  struct Prefix {
    std::string_view name;
    int family;
    bool dgram;
  };
  static constexpr Prefix kPrefixes[] = {
      {"ipv4@", AF_INET, false}, {"ipv6@", AF_INET6, false}, {"tcp@", AF_UNSPEC, false},
      {"tcp4@", AF_INET, false}, {"tcp6@", AF_INET6, false}, {"udp@", AF_UNSPEC, true},
      {"udp4@", AF_INET, true},  {"udp6@", AF_INET6, true},  {"unix@", AF_UNIX, false},
  };
  bool matched = false;
  for (const auto& p : kPrefixes) {
    if (starts_with(s, p.name)) {
      s.remove_prefix(p.name.size());
      family = p.family;
      out.datagram = p.dgram;
      matched = true;
      break;
    }
  }
  if (!matched) {
    std::size_t at = s.find('@');
    if (at != std::string_view::npos && s.find('/') > at && s.find(':') > at)
      return make_error("address family '" + std::string(s.substr(0, at + 1)) +
                        "' is not implemented yet in Sluice");
  }
  if (out.datagram && use != AddrUse::Log)
    return make_error("UDP addresses are not implemented yet in Sluice (" + q(text) + ")");
  if (family == AF_UNIX || (family == AF_UNSPEC && !s.empty() && s[0] == '/')) unix_path = true;

  if (unix_path) {
    if (use == AddrUse::Source) return make_error("a source address cannot be a UNIX socket");
    sockaddr_un sun{};
    if (s.empty()) return make_error("missing UNIX socket path in " + q(text));
    if (s.size() >= sizeof sun.sun_path)
      return make_error("UNIX socket path " + q(s) + " is too long (at most " +
                        std::to_string(sizeof sun.sun_path - 1) + " bytes)");
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, s.data(), s.size());
    std::memcpy(&out.addr.storage, &sun, sizeof sun);
    out.addr.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + s.size() + 1);
    return out;
  }

  std::string_view host;
  std::string_view port;
  bool colon = false;
  if (!s.empty() && s[0] == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) return make_error("missing ']' in address " + q(text));
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return make_error("unexpected " + q(rest) + " after ']' in " + q(text));
      colon = true;
      port = rest.substr(1);
    }
    if (family == AF_UNSPEC) family = AF_INET6;
  } else {
    std::size_t c = s.rfind(':');
    if (c == std::string_view::npos) {
      host = s;
    } else {
      colon = true;
      host = s.substr(0, c);
      port = s.substr(c + 1);
    }
  }
  (void)colon;

  if (auto r = resolve_host(host, family, opts, out.addr); !r) return Error{r.error()};

  if (!port.empty()) {
    out.has_port = true;
    if (port[0] == '+' || port[0] == '-') {
      if (use != AddrUse::Server)
        return make_error("port offsets like " + q(port) + " are only valid on servers");
      auto r = parse_uint(port.substr(1), 0, 65535);
      if (!r) return make_error("invalid port offset " + q(port) + " in " + q(text));
      out.port_offset = true;
      out.offset = port[0] == '-' ? -static_cast<int>(*r) : static_cast<int>(*r);
    } else if (std::size_t dash = port.find('-'); dash != std::string_view::npos) {
      if (use != AddrUse::Bind)
        return make_error("port ranges like " + q(port) + " are only valid on bind lines");
      auto lo = parse_port(port.substr(0, dash), text);
      if (!lo) return Error{lo.error()};
      auto hi = parse_port(port.substr(dash + 1), text);
      if (!hi) return Error{hi.error()};
      if (*hi < *lo) return make_error("port range " + q(port) + " is reversed");
      out.port_low = *lo;
      out.port_high = *hi;
    } else {
      auto p = parse_port(port, text);
      if (!p) return Error{p.error()};
      out.port_low = out.port_high = *p;
    }
  }
  if (use == AddrUse::Bind && !out.has_port)
    return make_error("missing port in bind address " + q(text) + " (expected like *:80)");
  if (use == AddrUse::Log && !out.has_port) {
    out.has_port = true;
    out.port_low = out.port_high = 514;
  }
  if (!out.port_offset) set_port(out.addr, out.port_low);
  return out;
}

Result<std::vector<Address>> parse_bind_addresses(std::string_view text,
                                                  const AddressOptions& opts) {
  std::vector<Address> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view one = text.substr(start, comma - start);
    if (one.empty()) return make_error("empty address in bind list " + q(text));
    auto r = parse_address(one, AddrUse::Bind, opts);
    if (!r) return Error{r.error()};
    if (out.size() + (r->port_high - r->port_low + 1U) > 65536)
      return make_error("bind list " + q(text) + " expands to more than 65536 addresses");
    if (r->addr.is_unix()) {
      out.push_back(r->addr);
    } else {
      for (unsigned p = r->port_low; p <= r->port_high; ++p) {
        Address a = r->addr;
        set_port(a, static_cast<std::uint16_t>(p));
        if (r->port_low != r->port_high)
          a.text = std::string(one.substr(0, one.rfind(':') + 1)) + std::to_string(p);
        out.push_back(std::move(a));
      }
    }
    start = comma + 1;
  }
  return out;
}

}  // namespace sluice::config
