#include "httpmode/errors.h"

#include <cstring>
#include <string_view>

#include "http/error_page.h"
#include "http/status.h"

namespace sluice::httpmode {

namespace {
const config::ErrorPage* custom_page(const config::Proxy* px, std::uint16_t status) {
  if (px == nullptr) return nullptr;
  auto it = px->error_pages.find(status);
  return it == px->error_pages.end() ? nullptr : &it->second;
}
}  // namespace

std::size_t write_error_response(const config::Proxy* be, const config::Proxy& fe,
                                 std::uint16_t status, char* out, std::size_t cap) {
  const config::ErrorPage* page = custom_page(be, status);
  if (page == nullptr) page = custom_page(&fe, status);
  if (page != nullptr) {
    if (page->empty) return 0;
    return http::render_closing(page->head, page->body, page->http11, out, cap);
  }
  // Built-in page: make it say it closes, right after the status line.
  std::string_view p = http::error_response(status);
  auto eol = p.find("\r\n");
  bool says_close = p.find("connection: close") != std::string_view::npos ||
                    p.find("Connection: close") != std::string_view::npos;
  constexpr std::string_view kClose = "connection: close\r\n";
  std::size_t need = p.size() + (says_close || eol == std::string_view::npos ? 0 : kClose.size());
  if (need > cap) return 0;
  if (says_close || eol == std::string_view::npos) {
    std::memcpy(out, p.data(), p.size());
    return p.size();
  }
  std::memcpy(out, p.data(), eol + 2);
  std::memcpy(out + eol + 2, kClose.data(), kClose.size());
  std::memcpy(out + eol + 2 + kClose.size(), p.data() + eol + 2, p.size() - eol - 2);
  return need;
}

std::optional<std::size_t> write_custom_page(const config::Proxy* be, const config::Proxy& fe,
                                             std::uint16_t status, char* out, std::size_t cap) {
  const config::ErrorPage* page = custom_page(be, status);
  if (page == nullptr) page = custom_page(&fe, status);
  if (page == nullptr) return std::nullopt;
  if (page->empty) return 0;
  std::size_t n = http::render_closing(page->head, page->body, false, out, cap);
  if (n == 0) return std::nullopt;  // does not fit: the built-in page
  return n;
}

}  // namespace sluice::httpmode
