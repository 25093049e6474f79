#pragma once
// The master's listening sockets, kept across reloads and handed to each new
// worker as inherited descriptors: a socket that stays in the configuration
// is never closed and reopened, so connections waiting in its backlog (or
// arriving while workers change) are accepted by whichever worker still
// accepts, never refused or reset.

#include <string>
#include <vector>

#include "runtime/engine.h"
#include "util/result.h"

namespace sluice::runtime {

class ListenInventory {
 public:
  ListenInventory() = default;
  ~ListenInventory();
  ListenInventory(const ListenInventory&) = delete;
  ListenInventory& operator=(const ListenInventory&) = delete;

  // Make sure every socket `plan` asks for is open: reuse what we hold
  // (same address and socket options), open the rest. Until commit() or
  // rollback(), sockets no longer in the plan stay open.
  Result<void> prepare(const std::vector<ListenNeed>& plan);
  // The new worker is up: close the sockets the plan no longer uses.
  void commit();
  // The new worker failed: close what prepare() opened, keep the rest.
  void rollback();

  // In a worker forked after prepare(): the sockets of one address, at least
  // `count` (more when an earlier plan had more threads), now the caller's.
  Result<std::vector<int>> take(const config::Address& addr, const core::ListenOptions& opts,
                                unsigned count) const;
  // In a worker forked after prepare(): close the sockets the plan does not use.
  void close_unused_in_child() const;

  // Identity of a socket: the address and the options fixed at bind time.
  static std::string key(const config::Address& addr, const core::ListenOptions& opts);
  std::size_t size() const;

 private:
  struct Entry {
    std::string key;
    std::vector<int> fds;
    std::size_t committed = 0;  // fds [0, committed) existed before prepare()
    bool wanted = true;         // in the prepared plan
  };
  std::vector<Entry> entries_;
};

}  // namespace sluice::runtime
