// What an HTTP transaction adds to the stats counters, at its end (before
// its log line): status class, request counts, bytes, times, aborts.

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

void HttpSession::describe(std::string& out, std::int64_t now_ms) const {
  char line[512];
  std::snprintf(line, sizeof line, "%p: proto=%s src=%s:%u fe=%s be=%s srv=%s age=%llds\n",
                static_cast<const void*>(this), peer_.ss_family == AF_INET6 ? "tcpv6" : "tcpv4",
                client_addr(), static_cast<unsigned>(client_port()),
                fe_ ? fe_->name().c_str() : "<NONE>", be_ ? be_->name().c_str() : "<NONE>",
                last_srv_ ? last_srv_->name().c_str() : "<none>",
                static_cast<long long>((now_ms - t_idle_start_) / 1000));
  out += line;
}

}  // namespace sluice::httpmode
