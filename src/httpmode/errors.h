#pragma once
// The responses Sluice answers with by itself (400, 403, 408, 500, 502, 503,
// 504...), always followed by a close: the backend's custom page if a backend
// was chosen and has one for the status, else the frontend's, else the
// built-in page (as HAProxy picks them).

#include <cstddef>
#include <cstdint>
#include <optional>

#include "config/model.h"

namespace sluice::httpmode {

// Writes the response into out; returns its length (0: close without a word,
// for an empty custom page or when it does not fit).
std::size_t write_error_response(const config::Proxy* be, const config::Proxy& fe,
                                 std::uint16_t status, char* out, std::size_t cap);

// For replies that may keep the connection (http-request/http-response
// deny): the site's own page for `status` with no Connection field (the
// caller adds one when it closes); nullopt when neither proxy has one, 0
// for an empty page (the caller closes without a word).
std::optional<std::size_t> write_custom_page(const config::Proxy* be, const config::Proxy& fe,
                                             std::uint16_t status, char* out, std::size_t cap);

}  // namespace sluice::httpmode
