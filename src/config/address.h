#pragma once
// Socket addresses as written in bind, server, source and log lines:
// "host:port", "[v6]:port", "*:80", ":80", "ipv4@", "ipv6@", "unix@/path",
// "/path", port ranges (bind) and "+N"/"-N" port offsets (server).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "util/result.h"

namespace sluice::config {

struct AddressOptions {
  bool resolve_hostnames = true;  // false: only literals and "localhost" (fuzzing)
};

// One address with an optional port, before port-range expansion.
struct ParsedAddress {
  Address addr;  // port 0 when not given
  bool has_port = false;
  std::uint16_t port_low = 0;  // a range "a-b" gives low..high
  std::uint16_t port_high = 0;
  bool port_offset = false;  // "+N" / "-N"
  int offset = 0;
  bool datagram = false;  // udp@ (log targets)
};

enum class AddrUse { Bind, Server, Source, Log };

// Parses one address (no commas). UNIX paths are accepted for Bind and Log.
Result<ParsedAddress> parse_address(std::string_view text, AddrUse use, const AddressOptions& opts);

// A bind's comma-separated list, port ranges expanded.
Result<std::vector<Address>> parse_bind_addresses(std::string_view text,
                                                  const AddressOptions& opts);

}  // namespace sluice::config
