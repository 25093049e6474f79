#pragma once
// What a balance algorithm does: given the usable servers of a backend (the
// caller already chose the active set or the backup set), pick one.
// Instances are per worker thread; cross-thread load (current connections)
// is read through LoadView, so no algorithm needs a lock.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "config/model.h"

namespace sluice::lb {

struct Member {
  std::uint32_t index = 0;   // the caller's server index
  std::uint32_t id = 0;      // server id (puid), orders `first`
  std::uint32_t weight = 1;  // effective weight, > 0
};

// Live load of servers, owned by the caller (atomics in the runtime).
class LoadView {
 public:
  virtual ~LoadView() = default;
  virtual std::uint32_t connections(std::uint32_t index) const = 0;
  // True when the server has reached its maxconn and must not be picked.
  virtual bool full(std::uint32_t index) const = 0;
};

// What the algorithm may hash on. Empty key: no key available (fall back
// to round robin, as HAProxy does).
struct PickInput {
  std::optional<std::string_view> key;  // source address bytes, URI, header...
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  // Replace the set of candidate servers. Called rarely (state changes).
  virtual void set_members(std::span<const Member> members) = 0;
  // The chosen member's index, or nothing when every member is full/absent.
  virtual std::optional<std::uint32_t> pick(const PickInput& in, const LoadView& load) = 0;
};

using AlgorithmPtr = std::unique_ptr<Algorithm>;

// Build the algorithm a backend's `balance` / `hash-type` lines ask for.
// For source/uri/url_param/hdr the caller extracts PickInput::key (source:
// the raw address bytes, 4 for IPv4 (IPv4-mapped IPv6 folded to 4), 16 for
// IPv6); the algorithm only hashes it. Hash algorithms return the hashed
// member even when it is full (the caller queues on it), as HAProxy does;
// every other pick skips full members and gives nothing when all are full.
AlgorithmPtr make_algorithm(const config::Balance& balance);

// The `balance` keyword of an algorithm ("roundrobin", "static-rr", ...).
std::string_view algorithm_name(config::BalanceAlgo algo);

}  // namespace sluice::lb
