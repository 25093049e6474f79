#pragma once
// Samples and where they come from. The runtime implements SampleSource once
// per session kind (a concrete subclass over its own session); ACL evaluation
// only calls these getters. Every getter has a "not available" default so a
// source implements what it can answer and new fetches (HTTP...) add getters
// without breaking existing sources. Getters must not allocate.

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::acl {

enum class SampleType : std::uint8_t { Bool, Int, Ip, Str };

std::string_view sample_type_name(SampleType t);

// An IPv4 (bytes[0..3]) or IPv6 address.
struct IpAddr {
  int family = 0;  // AF_INET or AF_INET6
  std::uint8_t bytes[16] = {};
};

// One fetched value. `str` views memory owned by the SampleSource or by the
// evaluation's stack; it is only valid during the evaluation.
struct Sample {
  SampleType type = SampleType::Bool;
  bool boolean = false;
  std::int64_t integer = 0;
  IpAddr ip;
  std::string_view str;
};

// A proxy named in a fetch argument, e.g. nbsrv(app). An empty name means the
// proxy the rule runs in (frontend) or the session's backend. `id` is the
// proxy's id when compile() could resolve it (0 otherwise), so the runtime
// can index instead of comparing names.
struct ProxyRef {
  std::string_view name;
  int id = 0;
};

// A server named as backend/server, e.g. srv_is_up(app/web1).
struct ServerRef {
  ProxyRef backend;
  std::string_view name;
  int id = 0;  // the server's puid when resolved at compile time
};

class SampleSource {
 public:
  virtual ~SampleSource() = default;

  // Client address and the address it connected to; nullptr when not an IP
  // socket (UNIX socket, not known yet).
  virtual const sockaddr_storage* source() const { return nullptr; }
  virtual const sockaddr_storage* destination() const { return nullptr; }

  // Current connections of a frontend / backend (fe_conn, be_conn).
  virtual std::optional<std::int64_t> frontend_conns(const ProxyRef&) const { return {}; }
  virtual std::optional<std::int64_t> backend_conns(const ProxyRef&) const { return {}; }
  // Usable servers of a backend: active ones, or backups when no active is up (nbsrv).
  virtual std::optional<std::int64_t> usable_servers(const ProxyRef&) const { return {}; }
  // Free connection + queue slots over the usable servers, -1 when one is
  // unlimited (connslots).
  virtual std::optional<std::int64_t> connslots(const ProxyRef&) const { return {}; }
  virtual std::optional<std::int64_t> server_conns(const ServerRef&) const { return {}; }
  virtual std::optional<bool> server_is_up(const ServerRef&) const { return {}; }
  // The frontend's id; the session's backend id once one is chosen.
  virtual std::optional<std::int64_t> frontend_id() const { return {}; }
  virtual std::optional<std::int64_t> backend_id() const { return {}; }

  // HTTP mode: the current request (and response, once it is parsed). The
  // method and the request target as received; the i-th field named `name`
  // (whole value, commas included), false past the last one or outside HTTP.
  virtual std::optional<std::string_view> http_method() const { return {}; }
  virtual std::optional<std::string_view> http_target() const { return {}; }
  virtual bool http_req_field(std::string_view /*name*/, std::size_t /*i*/,
                              std::string_view& /*out*/) const {
    return false;
  }
  virtual std::optional<std::int64_t> http_status() const { return {}; }
  virtual bool http_res_field(std::string_view /*name*/, std::size_t /*i*/,
                              std::string_view& /*out*/) const {
    return false;
  }
};

}  // namespace sluice::acl
