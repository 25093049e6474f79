// HAProxy's `option tcplog` line:
//   %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq

#include <algorithm>
#include <charconv>
#include <cstring>

#include "log/line.h"
#include "log/logger.h"
#include "log/timefmt.h"

namespace sluice::log {

std::size_t format_accept_date(const timeval& tv, char* out) {
  const LocalSecond& s = local_second(tv.tv_sec);
  std::memcpy(out, s.accept_, 20);
  const int ms = static_cast<int>(tv.tv_usec / 1000);
  out[20] = '.';
  out[21] = static_cast<char>('0' + ms / 100 % 10);
  out[22] = static_cast<char>('0' + ms / 10 % 10);
  out[23] = static_cast<char>('0' + ms % 10);
  return kAcceptDateLen;
}

std::string format_accept_date(const timeval& tv) {
  char buf[kAcceptDateLen];
  return std::string(buf, format_accept_date(tv, buf));
}

std::size_t format_tcplog(const TcpLogFields& f, char* out, std::size_t cap) {
  Line l{out, cap};
  l.put(f.client_addr);
  l.put(':');
  l.num(f.client_port);
  l.put(" [");
  char date[kAcceptDateLen];
  l.put(std::string_view(date, format_accept_date(f.accept_time, date)));
  l.put("] ");
  l.put(f.frontend);
  l.put(' ');
  l.put(f.backend);
  l.put('/');
  l.put(f.server.empty() ? std::string_view("<NOSRV>") : f.server);
  l.put(' ');
  l.num(f.tw);
  l.put('/');
  l.num(f.tc);
  l.put('/');
  l.num(f.tt);
  l.put(' ');
  l.num(f.bytes_read);
  l.put(' ');
  l.put(f.termination[0]);
  l.put(f.termination[1]);
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
  return l.n;
}

std::string format_tcplog(const TcpLogFields& f) {
  char buf[512];
  const std::size_t n = format_tcplog(f, buf, sizeof buf);
  if (n <= sizeof buf) return std::string(buf, n);
  std::string s(n, '\0');
  format_tcplog(f, s.data(), s.size());
  return s;
}

}  // namespace sluice::log
