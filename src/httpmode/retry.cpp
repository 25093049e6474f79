#include "httpmode/retry.h"

namespace sluice::httpmode {

bool replayable_request(const http::Head& h, std::size_t bufsize) {
  switch (h.method) {
    case http::Method::Get:
    case http::Method::Head:
    case http::Method::Put:
    case http::Method::Delete:
    case http::Method::Options:
    case http::Method::Trace:
      break;
    default:
      return false;
  }
  if (h.framing == http::Framing::None) return true;
  // Half a buffer at most, so a pipelined request behind it still has room.
  return h.framing == http::Framing::ContentLength && h.content_length <= bufsize / 2;
}

bool should_redispatch(const config::Proxy& be, unsigned retries_done, bool server_usable,
                       bool cookie_direct, unsigned active_servers) {
  if (!be.redispatch) return false;
  if (!server_usable) return true;
  const int after = be.redispatch_interval;
  const int done = static_cast<int>(retries_done);
  if (after > 0 && done % after == 0) return true;
  if (after < 0) {
    int every = static_cast<int>(be.retries) + 1 + after;
    if (every > 0 && done % every == 0) return true;
  }
  const config::BalanceAlgo a = be.balance.algo;
  const bool hashing = a == config::BalanceAlgo::Source || a == config::BalanceAlgo::Uri ||
                       a == config::BalanceAlgo::UrlParam || a == config::BalanceAlgo::Hdr;
  return !cookie_direct && active_servers > 1 && !hashing;
}

}  // namespace sluice::httpmode
