#pragma once
// The answer of `http-request auth`: the proxies' 401 page (the backend's
// custom one if a backend was chosen and has one, else the frontend's, else
// the built-in page), every WWW-Authenticate field dropped and one Basic
// challenge for the realm added last, as HAProxy serves it. No Connection
// field: the session adds one when it closes.

#include <cstddef>
#include <string_view>

#include "config/model.h"

namespace sluice::httpmode {

// Writes the response into out; returns its length, 0 for an empty custom
// page (close without a word) or when it does not fit.
std::size_t write_auth_reply(const config::Proxy* be, const config::Proxy& fe,
                             std::string_view realm, char* out, std::size_t cap);

}  // namespace sluice::httpmode
