#pragma once
// Reason phrases and the canned error responses Sluice answers by itself.

#include <cstdint>
#include <string_view>

namespace sluice::http {

// RFC 9110 reason phrase for a status code; "" for codes it does not name.
std::string_view reason_phrase(std::uint16_t status);

// A complete canned response (status line, headers, HTML body) for the statuses
// Sluice generates itself: 200 400 401 403 404 405 407 408 410 413 414 421 422
// 425 429 431 500 501 502 503 504 505. Status lines and header shape match
// haproxy 2.6 (including its reason spellings: "400 Bad request", "408 Request
// Time-out", "504 Gateway Time-out"); bodies are our own text. 400, 408, 414,
// 431 and 505 carry "connection: close". Unknown codes give the 500 response.
std::string_view error_response(std::uint16_t status);

// Whether error_response() has a page of its own for this status.
bool has_error_response(std::uint16_t status);

}  // namespace sluice::http
