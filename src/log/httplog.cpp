#include "log/httplog.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "log/line.h"
#include "log/logger.h"

namespace sluice::log {

namespace {


// %{+Q}r: the request line in double quotes; quotes and control bytes inside
// are escaped as #XX, as HAProxy's log encoding does.
void quoted(Line& l, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  l.put('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '#' || c < 0x20 || c >= 0x7f) {
      l.put('#');
      l.put(kHex[c >> 4]);
      l.put(kHex[c & 15]);
    } else {
      l.put(static_cast<char>(c));
    }
  }
  l.put('"');
}

}  // namespace

std::size_t format_httplog(const HttpLogFields& f, char* out, std::size_t cap) {
  Line l{out, cap};
  l.put(f.client_addr);
  l.put(':');
  l.num(f.client_port);
  l.put(" [");
  char date[kAcceptDateLen];
  l.put(std::string_view(date, format_accept_date(f.request_time, date)));
  l.put("] ");
  l.put(f.frontend);
  l.put(' ');
  l.put(f.backend);
  l.put('/');
  l.put(f.server.empty() ? std::string_view("<NOSRV>") : f.server);
  l.put(' ');
  l.num(f.treq);
  l.put('/');
  l.num(f.tw);
  l.put('/');
  l.num(f.tc);
  l.put('/');
  l.num(f.tr);
  l.put('/');
  l.num(f.ta);
  l.put(' ');
  l.num(f.status);
  l.put(' ');
  l.num(f.bytes_read);
  l.put(" - - ");
  l.put(std::string_view(f.termination, 4));
  l.put(' ');
  l.num(f.actconn);
  l.put('/');
  l.num(f.feconn);
  l.put('/');
  l.num(f.beconn);
  l.put('/');
  l.num(f.srv_conn);
  l.put('/');
  if (f.redispatched) l.put('+');
  l.num(f.retries);
  l.put(' ');
  l.num(f.srv_queue);
  l.put('/');
  l.num(f.backend_queue);
  l.put(' ');
  if (!f.req_captures.empty()) {
    l.put(f.req_captures);
    l.put(' ');
  }
  if (!f.res_captures.empty()) {
    l.put(f.res_captures);
    l.put(' ');
  }
  quoted(l, f.request_line.empty() ? std::string_view("<BADREQ>") : f.request_line);
  return l.n;
}

std::string format_httplog(const HttpLogFields& f) {
  char buf[1024];
  const std::size_t n = format_httplog(f, buf, sizeof buf);
  if (n <= sizeof buf) return std::string(buf, n);
  std::string s(n, '\0');
  format_httplog(f, s.data(), s.size());
  return s;
}

}  // namespace sluice::log
