// Addresses on bind, server, source and log lines.

#include "config/address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace sluice::config {
namespace {

AddressOptions no_dns() {
  AddressOptions o;
  o.resolve_hostnames = false;
  return o;
}

std::string ip_of(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a.storage).sin_addr, buf, sizeof buf);
  else if (a.family() == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a.storage).sin6_addr, buf, sizeof buf);
  else if (a.is_unix())
    return reinterpret_cast<const sockaddr_un&>(a.storage).sun_path;
  return buf;
}

std::vector<Address> binds(const std::string& s) {
  auto r = parse_bind_addresses(s, no_dns());
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error());
  return r.ok() ? *r : std::vector<Address>{};
}

std::string bind_error(const std::string& s) {
  auto r = parse_bind_addresses(s, no_dns());
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? std::string() : r.error();
}

TEST(ConfigAddress, BindWildcardsAndLiterals) {
  auto a = binds("*:80");
  ASSERT_EQ(a.size(), 1U);
  EXPECT_EQ(a[0].family(), AF_INET);
  EXPECT_EQ(ip_of(a[0]), "0.0.0.0");
  EXPECT_EQ(a[0].port(), 80);
  EXPECT_EQ(a[0].text, "*:80");
  EXPECT_EQ(ip_of(binds(":8080")[0]), "0.0.0.0");
  EXPECT_EQ(ip_of(binds("0.0.0.0:80")[0]), "0.0.0.0");
  EXPECT_EQ(ip_of(binds("127.0.0.1:8000")[0]), "127.0.0.1");
}

TEST(ConfigAddress, BindIpv6Forms) {
  auto a = binds("[::1]:80");
  ASSERT_EQ(a.size(), 1U);
  EXPECT_EQ(a[0].family(), AF_INET6);
  EXPECT_EQ(ip_of(a[0]), "::1");
  EXPECT_EQ(a[0].port(), 80);
  auto b = binds(":::443");
  EXPECT_EQ(b[0].family(), AF_INET6);
  EXPECT_EQ(ip_of(b[0]), "::");
  EXPECT_EQ(b[0].port(), 443);
  auto c = binds("ipv6@:80");
  EXPECT_EQ(c[0].family(), AF_INET6);
  EXPECT_EQ(ip_of(c[0]), "::");
  auto d = binds("ipv4@:80");
  EXPECT_EQ(d[0].family(), AF_INET);
}

TEST(ConfigAddress, BindPortRangesAndLists) {
  auto a = binds("127.0.0.1:8000-8005");
  ASSERT_EQ(a.size(), 6U);
  EXPECT_EQ(a[0].port(), 8000);
  EXPECT_EQ(a[5].port(), 8005);
  EXPECT_EQ(a[5].text, "127.0.0.1:8005");
  auto b = binds(":80,[::1]:81,127.0.0.1:90-91");
  ASSERT_EQ(b.size(), 4U);
  EXPECT_EQ(b[1].port(), 81);
  EXPECT_EQ(b[3].port(), 91);
}

TEST(ConfigAddress, BindUnixSockets) {
  auto a = binds("/var/run/s.sock");
  ASSERT_EQ(a.size(), 1U);
  EXPECT_TRUE(a[0].is_unix());
  EXPECT_EQ(ip_of(a[0]), "/var/run/s.sock");
  auto b = binds("unix@/tmp/x");
  EXPECT_TRUE(b[0].is_unix());
  EXPECT_EQ(ip_of(b[0]), "/tmp/x");
}

TEST(ConfigAddress, BindErrors) {
  EXPECT_EQ(bind_error("127.0.0.1"), "missing port in bind address '127.0.0.1' (expected like *:80)");
  EXPECT_EQ(bind_error(":0"), "invalid port '0' in ':0' (expected 1..65535)");
  EXPECT_EQ(bind_error(":99999"), "invalid port '99999' in ':99999' (expected 1..65535)");
  EXPECT_EQ(bind_error(":90-80"), "port range '90-80' is reversed");
  EXPECT_EQ(bind_error(":80,"), "empty address in bind list ':80,'");
  EXPECT_EQ(bind_error("[::1:80"), "missing ']' in address '[::1:80'");
  EXPECT_EQ(bind_error("1.2.3:80"), "could not resolve address '1.2.3'");
  EXPECT_EQ(bind_error("a b:80"), "invalid address 'a b'");
  EXPECT_EQ(bind_error("fd@3"), "address family 'fd@' is not implemented yet in Sluice");
  EXPECT_EQ(bind_error("udp@:53"), "UDP addresses are not implemented yet in Sluice ('udp@:53')");
  EXPECT_EQ(bind_error(":+80"), "port offsets like '+80' are only valid on servers");
  EXPECT_EQ(bind_error("unix@"), "missing UNIX socket path in 'unix@'");
  EXPECT_EQ(bind_error("/" + std::string(200, 'x')).substr(0, 16), "UNIX socket path");
}

TEST(ConfigAddress, ServerForms) {
  auto a = parse_address("10.0.0.1:8080", AddrUse::Server, no_dns());
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->has_port);
  EXPECT_EQ(a->addr.port(), 8080);
  auto b = parse_address("10.0.0.1", AddrUse::Server, no_dns());
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_port);
  EXPECT_EQ(b->addr.port(), 0);
  auto c = parse_address("10.0.0.1:+1000", AddrUse::Server, no_dns());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->port_offset);
  EXPECT_EQ(c->offset, 1000);
  auto d = parse_address("10.0.0.1:-10", AddrUse::Server, no_dns());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->offset, -10);
  auto e = parse_address("localhost:80", AddrUse::Server, no_dns());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(ip_of(e->addr), "127.0.0.1");
  auto f = parse_address("10.0.0.1:1-2", AddrUse::Server, no_dns());
  EXPECT_EQ(f.error(), "port ranges like '1-2' are only valid on bind lines");
}

TEST(ConfigAddress, HostnamesResolveAtLoad) {
  AddressOptions opts;  // real resolution, as at start-up
  auto a = parse_address("localhost:80", AddrUse::Server, opts);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_TRUE(a->addr.family() == AF_INET || a->addr.family() == AF_INET6);
  EXPECT_EQ(a->addr.port(), 80);
  auto b = parse_address("no-such-host.invalid:80", AddrUse::Server, opts);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().rfind("could not resolve address 'no-such-host.invalid'", 0), 0U) << b.error();
}

TEST(ConfigAddress, LogTargetsDefaultTo514) {
  auto a = parse_address("127.0.0.1", AddrUse::Log, no_dns());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->addr.port(), 514);
  auto b = parse_address("udp@10.0.0.1:1514", AddrUse::Log, no_dns());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->datagram);
  EXPECT_EQ(b->addr.port(), 1514);
  auto c = parse_address("/dev/log", AddrUse::Log, no_dns());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->addr.is_unix());
}

}  // namespace
}  // namespace sluice::config
