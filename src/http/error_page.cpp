#include "http/error_page.h"

#include <cstring>

#include "http/parser.h"

namespace sluice::http {

namespace {
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

Result<PreparedPage> prepare_error_file(std::string_view raw) {
  Limits lim;
  lim.max_head = static_cast<std::uint32_t>(raw.size() + 1);
  HeadParser parser(Side::Response, lim);
  HeadResult r = parser.parse(raw);
  if (r.state == ParseState::NeedMore)
    return make_error("not a complete HTTP response (no end of the header block)");
  if (r.state == ParseState::Error)
    return make_error("not a valid HTTP response (" + std::string(describe(r.failure.code)) + ")");
  const Head& h = parser.head();
  if (h.status < 200)
    return make_error("an error page cannot have status " + std::to_string(h.status));
  MessageView v = parser.view(raw);
  PreparedPage p;
  p.status = h.status;
  p.http11 = h.http11();
  p.head.append(v.start_line());
  p.head.append("\r\n");
  for (auto f : v) {
    if (iequals(f.name, "connection")) continue;  // the proxy decides, as HAProxy does
    for (char c : f.name) p.head.push_back(lower(c));
    p.head.append(": ");
    p.head.append(f.value);
    p.head.append("\r\n");
  }
  p.body.assign(raw.substr(r.head_length));
  return p;
}

PreparedPage redirect_page(std::uint16_t code, std::string_view location) {
  PreparedPage p;
  p.status = code;
  p.head = code == 303 ? "HTTP/1.1 303 See Other\r\n" : "HTTP/1.1 302 Found\r\n";
  p.head.append("cache-control: no-cache\r\ncontent-length: 0\r\nlocation: ");
  p.head.append(location);
  p.head.append("\r\n");
  return p;
}

std::size_t render_closing(const std::string& head, const std::string& body, bool http11,
                           char* out, std::size_t cap) {
  constexpr std::string_view kClose = "connection: close\r\n";
  std::size_t need = head.size() + (http11 ? kClose.size() : 0) + 2 + body.size();
  if (need > cap) return 0;
  char* o = out;
  std::memcpy(o, head.data(), head.size());
  o += head.size();
  if (http11) {
    std::memcpy(o, kClose.data(), kClose.size());
    o += kClose.size();
  }
  std::memcpy(o, "\r\n", 2);
  o += 2;
  std::memcpy(o, body.data(), body.size());
  return need;
}

}  // namespace sluice::http
