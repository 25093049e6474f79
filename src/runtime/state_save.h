#pragma once
// Saving the running worker's server states before a reload (master-worker
// mode): the master asks the worker's stats socket for `show servers state`
// and writes the answer to the `server-state-file` the new worker loads, as
// an operator does by hand with HAProxy (`show servers state > FILE`).

#include <string>

#include "config/model.h"
#include "util/result.h"

namespace sluice::runtime {

// The answer of `show servers state` from the first stats socket of `running`
// (UNIX or TCP), read within `timeout_ms`.
Result<std::string> fetch_server_state(const config::Global& running, int timeout_ms);

// Writes `text` to `path` atomically (a temporary file renamed over it).
Result<void> write_state_file(const std::string& path, const std::string& text);

}  // namespace sluice::runtime
