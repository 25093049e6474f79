// `log-format` for `mode tcp` sessions: the tcplog fields seen through the
// custom-format variables. HTTP-only variables are refused at load time
// (LogFormat::http_only_variable), so what is left here is the mapping of
// what a TCP session has: no status (%ST is 0), the session's number for %rt,
// two termination characters ("--" follow in %tsc).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "log/logformat.h"
#include "log/logger.h"

namespace sluice::log {

void address_and_port(const sockaddr_storage* a, char* out, std::uint16_t& port) {
  out[0] = '\0';
  if (a == nullptr) return;
  if (a->ss_family == AF_INET) {
    auto& in = reinterpret_cast<const sockaddr_in&>(*a);
    ::inet_ntop(AF_INET, &in.sin_addr, out, INET6_ADDRSTRLEN);
    port = ntohs(in.sin_port);
  } else if (a->ss_family == AF_INET6) {
    auto& in6 = reinterpret_cast<const sockaddr_in6&>(*a);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, out, INET6_ADDRSTRLEN);
    port = ntohs(in6.sin6_port);
  }
}

const std::string& log_host_name() {
  static const std::string name = [] {
    char h[256] = {};
    ::gethostname(h, sizeof h - 1);
    return std::string(h);
  }();
  return name;
}

std::uint64_t next_stream_id() {
  static std::atomic<std::uint64_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::size_t format_tcp_custom(const LogFormat& lf, const TcpLogFields& f, const TcpLogExtras& x,
                              char* out, std::size_t cap) {
  HttpLogFields h;
  h.client_addr = f.client_addr;
  h.client_port = f.client_port;
  h.request_time = f.accept_time;
  h.frontend = f.frontend;
  h.backend = f.backend;
  h.server = f.server == "<NOSRV>" ? std::string_view() : f.server;
  h.tw = f.tw;
  h.tc = f.tc;
  h.ta = f.tt;  // %Tt: no idle time before a TCP session
  h.status = 0;
  h.bytes_read = f.bytes_read;
  h.termination[0] = f.termination[0];
  h.termination[1] = f.termination[1];
  h.actconn = f.actconn;
  h.feconn = f.feconn;
  h.beconn = f.beconn;
  h.srv_conn = f.srv_conn;
  h.retries = f.retries;
  h.redispatched = f.redispatched;
  h.srv_queue = f.srv_queue;
  h.backend_queue = f.backend_queue;

  LogContext ctx;
  ctx.http = &h;
  ctx.samples = x.samples;
  ctx.tcp = true;
  ctx.accept_time = f.accept_time;
  ctx.bytes_uploaded = x.bytes_uploaded;
  ctx.request_counter = x.stream_id;
  ctx.hostname = log_host_name();
  char fe_addr[INET6_ADDRSTRLEN], srv_addr[INET6_ADDRSTRLEN];
  address_and_port(x.frontend, fe_addr, ctx.frontend_port);
  address_and_port(x.server, srv_addr, ctx.server_port);
  ctx.frontend_addr = fe_addr;
  ctx.server_addr = srv_addr;
  Line l{out, cap};
  lf.write(ctx, l);
  return l.n;
}

}  // namespace sluice::log
