#pragma once
// Custom error pages (`errorfile`, `errorloc`): a raw HTTP response read from
// a file, checked with the response parser and put in the shape HAProxy
// serves it (header names lowercased, Connection fields dropped); and the
// redirect pages of `errorloc302` / `errorloc303`. Pure: text in, text out.

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sluice::http {

struct PreparedPage {
  std::string head;  // status line and fields, each ending CRLF, no blank line
  std::string body;
  bool http11 = true;
  std::uint16_t status = 0;
};

// Checks and prepares the contents of an error file. Errors name what is
// wrong ("no end of the header block", "invalid header field", ...).
Result<PreparedPage> prepare_error_file(std::string_view raw);

// The page `errorloc` (302) or `errorloc303` (303) serves.
PreparedPage redirect_page(std::uint16_t code, std::string_view location);

// Writes head + ("connection: close" for 1.1 pages) + blank line + body into
// out; returns the length, or 0 when it does not fit.
std::size_t render_closing(const std::string& head, const std::string& body, bool http11,
                           char* out, std::size_t cap);

}  // namespace sluice::http
