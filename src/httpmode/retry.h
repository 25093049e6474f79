#pragma once
// When an HTTP request is retried and where (`retries`, `retry-on`, `option
// redispatch`), as HAProxy documents it. Pure decisions; the session acts.

#include <cstddef>

#include "config/model.h"
#include "http/parser.h"

namespace sluice::httpmode {

// Whether a request may be replayed after it was sent: idempotent methods
// only (RFC 9110 9.2.2), and its body, if any, small enough to stay whole in
// the buffer until the response head arrives.
bool replayable_request(const http::Head& h, std::size_t bufsize);

// Whether the retry number `retries_done` (1 for the first retry) goes to
// another server rather than the same one: the server is no longer usable;
// or `option redispatch` with its interval (P > 0: every Pth retry; -N: the
// Nth retry before the last); or `option redispatch` and the server was not
// chosen by a persistence cookie, more than one active server is up and the
// algorithm is not a hash (HAProxy redispatches such retries at once).
bool should_redispatch(const config::Proxy& be, unsigned retries_done, bool server_usable,
                       bool cookie_direct, unsigned active_servers);

}  // namespace sluice::httpmode
