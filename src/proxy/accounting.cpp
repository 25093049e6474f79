#include "proxy/accounting.h"

#include <algorithm>

namespace sluice::proxy {

namespace {
std::uint64_t clamp0(std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }
}  // namespace

void account_end(Frontend& fe, Backend* be, Server* srv, const SessionEnd& e) {
  constexpr auto R = std::memory_order_relaxed;
  SessionCounters* sides[3] = {&fe.counters(), be ? &be->counters() : nullptr,
                               srv ? &srv->counters() : nullptr};
  for (SessionCounters* c : sides) {
    if (c == nullptr) continue;
    if (e.bytes_in) c->bytes_in.fetch_add(e.bytes_in, R);
    if (e.bytes_out) c->bytes_out.fetch_add(e.bytes_out, R);
  }
  const bool client_side =
      e.term.cause == TermCause::ClientAbort || e.term.cause == TermCause::ClientTimeout;
  const bool server_side =
      e.term.cause == TermCause::ServerAbort || e.term.cause == TermCause::ServerTimeout;
  if (e.http) {
    fe.counters().requests.fetch_add(1, R);
    fe.counters().req_rate.add(coarse_steady_ms());
    if (e.status > 0) fe.counters().count_status(e.status);
    if (be != nullptr) {
      be->counters().requests.fetch_add(1, R);
      if (e.status > 0) be->counters().count_status(e.status);
    }
    if (srv != nullptr) {
      srv->counters().requests.fetch_add(1, R);
      if (e.status > 0 && e.server_answered) srv->counters().count_status(e.status);
    }
    // Errors while reading the request (bad request, client timeout).
    if (e.term.phase == TermPhase::Request && (e.status == 400 || e.status == 408))
      fe.counters().req_errors.fetch_add(1, R);
  }
  // Aborts during the data phase, and response errors (srv_abrt is one).
  if (e.term.phase == TermPhase::Data || e.term.phase == TermPhase::LastData ||
      e.term.phase == TermPhase::Headers) {
    for (SessionCounters* c : {sides[1], sides[2]}) {
      if (c == nullptr) continue;
      if (client_side && e.term.phase != TermPhase::Headers) c->cli_aborts.fetch_add(1, R);
      if (server_side) {
        if (e.term.phase != TermPhase::Headers) c->srv_aborts.fetch_add(1, R);
        c->resp_errors.fetch_add(1, R);
      }
    }
  }
  // Times, once a server was reached (HAProxy's per-stream time stats).
  if (srv != nullptr && e.tc >= 0) {
    for (SessionCounters* c : {sides[1], sides[2]}) {
      c->qtime.add(clamp0(e.tw));
      c->ctime.add(clamp0(e.tc));
      c->rtime.add(e.http ? clamp0(e.tr) : 0);
      c->ttime.add(clamp0(e.tt));
    }
  }
}

}  // namespace sluice::proxy
