#pragma once
// The running proxy: built from a configuration model, owns the worker
// threads, the listeners and the shared runtime objects (proxies, servers).

#include <memory>

#include "config/model.h"
#include "log/logger.h"
#include "util/result.h"

namespace sluice::runtime {

class Engine {
 public:
  virtual ~Engine() = default;

  // Open every listener (so bind errors surface before daemonising) and
  // build the runtime objects. Nothing runs until start().
  static Result<std::unique_ptr<Engine>> create(const config::Model& model, log::Logger& logger);

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
