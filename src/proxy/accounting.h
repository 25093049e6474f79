#pragma once
// What a finished session (TCP) or transaction (HTTP) adds to the stats
// counters of its frontend, backend and server: one call at its end.

#include <cstdint>

#include "proxy/backend.h"
#include "proxy/frontend.h"
#include "proxy/termination.h"

namespace sluice::proxy {

struct SessionEnd {
  std::uint64_t bytes_in = 0;  // from the client (0 when already counted)
  std::uint64_t bytes_out = 0;  // to the client
  int status = -1;  // HTTP status sent to the client; -1 in TCP mode
  bool http = false;
  bool server_answered = false;  // the status came from the server
  std::int64_t tw = -1, tc = -1, tr = -1, tt = 0;  // ms, -1: never reached
  Termination term;
};

void account_end(Frontend& fe, Backend* be, Server* srv, const SessionEnd& e);

}  // namespace sluice::proxy
