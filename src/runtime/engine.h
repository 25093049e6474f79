#pragma once
// The running proxy: built from a configuration model, owns the worker
// threads, the listeners and the shared runtime objects (proxies, servers).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "core/listener.h"
#include "log/logger.h"
#include "util/result.h"

namespace sluice::runtime {

// One listening address a configuration needs: `count` sockets (one per
// thread with SO_REUSEPORT, or 1 for a UNIX socket) opened with `opts`.
struct ListenNeed {
  config::Address addr;
  core::ListenOptions opts;
  unsigned count = 1;
};

// Where the engine gets its listening sockets. Without one it opens them
// itself; a master-worker worker takes the ones its master holds (and may get
// more than `count`: sockets left by a worker that had more threads, which
// still receive connections from the kernel and must be served).
using ListenerSource = std::function<Result<std::vector<int>>(
    const config::Address& addr, const core::ListenOptions& opts, unsigned count)>;

class Engine {
 public:
  virtual ~Engine() = default;

  // Open every listener (so bind errors surface before daemonising) and
  // build the runtime objects. Nothing runs until start().
  static Result<std::unique_ptr<Engine>> create(const config::Model& model, log::Logger& logger,
                                                ListenerSource source = {});
  // The sockets create() will ask for, in the same order.
  static std::vector<ListenNeed> listen_plan(const config::Model& model);

  // Warnings found while building (server state file), for the operator.
  virtual std::vector<std::string> take_warnings() = 0;

  // Reload hand-over (runtime/handoff.h), before start(): `in` receives the
  // idle connections of the worker this one replaces, `out` is where this
  // one's go when it stops softly. Either may be -1; the engine owns both.
  virtual void set_handoff(int in, int out) = 0;

  // Spawn the worker threads (after any fork/chroot/setuid).
  virtual void start() = 0;
  // SIGUSR1: stop accepting, let live sessions finish, then the workers end.
  virtual void soft_stop() = 0;
  // SIGTERM: close everything now.
  virtual void hard_stop() = 0;
  // Block until every worker thread has ended.
  virtual void wait() = 0;
};

}  // namespace sluice::runtime
