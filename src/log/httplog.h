#pragma once
// HAProxy's `option httplog` line:
//   %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
//   %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
// (%CC and %CS are "-"; %hr and %hs print nothing without captures).

#include <sys/time.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::log {

struct HttpLogFields {
  std::string_view client_addr;
  std::uint16_t client_port = 0;
  timeval request_time{};  // %tr: when the request (its first byte) arrived
  std::string_view frontend;
  std::string_view backend;
  std::string_view server;  // empty: <NOSRV>
  std::int64_t treq = -1;   // %TR
  std::int64_t tw = -1;
  std::int64_t tc = -1;
  std::int64_t tr = -1;
  std::int64_t ta = 0;
  int status = -1;  // %ST; -1 when none was sent
  std::uint64_t bytes_read = 0;  // %B: bytes sent to the client
  char termination[4] = {'-', '-', '-', '-'};
  unsigned actconn = 0, feconn = 0, beconn = 0, srv_conn = 0;
  unsigned retries = 0;
  bool redispatched = false;
  unsigned srv_queue = 0, backend_queue = 0;
  std::string_view request_line;  // %r, quoted; "<BADREQ>" when none parsed
  std::string_view req_captures;  // %hr: "{v1|v2}" or empty when no capture is declared
  std::string_view res_captures;  // %hs
};

// Writes up to `cap` bytes and returns the full length (like snprintf).
std::size_t format_httplog(const HttpLogFields& f, char* out, std::size_t cap);
std::string format_httplog(const HttpLogFields& f);

}  // namespace sluice::log
