#pragma once
// Master-worker mode (-W, `master-worker`): a master process that holds the
// listening sockets and runs the proxy in forked worker processes. A reload
// (SIGUSR2, or `reload` on the master CLI) checks the new configuration,
// starts a worker on the same sockets, and only once it is ready tells the
// old worker to stop softly. The master never accepts connections.

#include <functional>
#include <string>

#include "config/model.h"
#include "log/logger.h"
#include "runtime/engine.h"
#include "util/result.h"

namespace sluice::runtime {

// A worker's ends of the reload hand-over channels (runtime/handoff.h):
// `in` from the worker it replaces (-1 for the first), `out` to its own
// successor. Close-on-exec; the worker's engine takes them.
struct WorkerHandoff {
  int in = -1;
  int out = -1;
};

struct MasterSetup {
  // `-S PATH`: the master CLI socket (show proc, reload); empty for none.
  std::string cli_path;
  // `master-worker no-exit-on-failure` clears it: a worker that dies
  // unexpectedly is only logged; otherwise the master stops everything and
  // exits with the worker's status.
  bool exit_on_failure = true;
  // Reads the configuration again (files, command-line overrides). Warnings
  // and errors, one per line, go to `messages`.
  std::function<Result<config::Model>(std::string& messages)> load;
  // Runs a worker in a freshly forked child and returns its exit status. It
  // writes start-up messages to `report_fd`, then the line "READY" once it
  // accepts connections, and closes it.
  std::function<int(config::Model& model, ListenerSource source, int report_fd,
                    WorkerHandoff handoff)>
      worker;
  // Messages of the master itself (log targets, stderr in the foreground).
  std::function<void(log::Level, const std::string&)> log;
  // Called once, when the first worker is ready (the daemon's parent exits).
  std::function<void()> on_ready;
};

// Runs the master until it stops; returns the process exit status.
int run_master(const config::Model& model, MasterSetup setup);

// The line a worker writes on its report fd when it is ready.
inline constexpr const char* kWorkerReady = "READY";

}  // namespace sluice::runtime
