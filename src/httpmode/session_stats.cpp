// What an HTTP transaction adds to the stats counters, at its end (before
// its log line): status class, request counts, bytes, times, aborts.

#include <arpa/inet.h>

#include <cstdio>

#include "httpmode/session.h"
#include "proxy/accounting.h"

namespace sluice::httpmode {

void HttpSession::count_transaction() {
  proxy::SessionEnd e;
  e.http = true;
  e.bytes_in = req_.bytes_in;  // request bytes received during this transaction
  e.bytes_out = res_.bytes_out;
  req_.bytes_in = 0;  // res_ is reset after the log line, which reports it
  e.status = status_;
  e.server_answered = t_res_ >= 0;
  std::int64_t start = t_req_start_ >= 0 ? t_req_start_ : t_idle_start_;
  e.tw = t_queue_done_ >= 0 && t_head_ >= 0 ? t_queue_done_ - t_head_ : -1;
  e.tc = tc_;
  e.tr = t_res_ >= 0 && t_queue_done_ >= 0 ? t_res_ - t_queue_done_ - std::max<std::int64_t>(tc_, 0)
                                           : -1;
  e.tt = loop_.now_ms() - start;
  e.term = term_;
  // A connection that closed before any request is no transaction.
  if (req_index_ == 0 && reqline_len_ == 0 && status_ < 0) return;
  proxy::account_end(*fe_, be_, const_cast<proxy::Server*>(last_srv_), e);
}

}  // namespace sluice::httpmode

namespace sluice::httpmode {

void describe_session_line(std::string& out, const void* id, const sockaddr* peer,
                           const proxy::Frontend* fe, const proxy::Backend* be,
                           const proxy::Server* srv, std::int64_t age_ms) {
  char addr[INET6_ADDRSTRLEN];
  std::uint16_t port = 0;
  peer_text(peer, addr, sizeof addr, port);
  char line[512];
  std::snprintf(line, sizeof line, "%p: proto=%s src=%s:%u fe=%s be=%s srv=%s age=%llds\n", id,
                peer->sa_family == AF_INET6 ? "tcpv6" : "tcpv4", addr,
                static_cast<unsigned>(port), fe ? fe->name().c_str() : "<NONE>",
                be ? be->name().c_str() : "<NONE>", srv ? srv->name().c_str() : "<none>",
                static_cast<long long>(age_ms / 1000));
  out += line;
}

void HttpSession::describe(std::string& out, std::int64_t now_ms) const {
  describe_session_line(out, this, reinterpret_cast<const sockaddr*>(&peer_), fe_, be_, last_srv_,
                        now_ms - t_idle_start_);
}

}  // namespace sluice::httpmode
