#include "httpmode/balance_key.h"

#include <netinet/in.h>

#include "lb/key_extract.h"

namespace sluice::httpmode {

bool request_balance_key(const config::Balance& b, const http::MessageView& req,
                         std::string_view body, const sockaddr_storage& peer, std::string& out) {
  out.clear();
  switch (b.algo) {
    case config::BalanceAlgo::Source:
      if (peer.ss_family == AF_INET)
        out.assign(reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in&>(peer).sin_addr),
                   4);
      else if (peer.ss_family == AF_INET6)
        out.assign(
            reinterpret_cast<const char*>(&reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr),
            16);
      else
        return false;
      return true;
    case config::BalanceAlgo::Uri:
      out.assign(lb::uri_key(req.target(), b));
      return true;
    case config::BalanceAlgo::UrlParam: {
      auto v = lb::url_param_key(lb::query_of(req.target()), b.key_name);
      if (!v && b.check_post && req.head().method == http::Method::Post) {
        std::size_t n = body.size();
        if (req.head().framing == http::Framing::ContentLength && req.head().content_length < n)
          n = static_cast<std::size_t>(req.head().content_length);
        if (req.head().framing != http::Framing::Chunked)
          v = lb::url_param_key(body.substr(0, n), b.key_name);
      }
      if (!v) return false;
      out.assign(*v);
      return true;
    }
    case config::BalanceAlgo::Hdr: {
      std::size_t i = req.find(b.key_name);
      if (i == http::MessageView::npos) return false;
      std::string_view v = req.field(i).value;
      if (b.use_domain_only) v = lb::domain_only(v);
      if (v.empty()) return false;
      out.assign(v);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace sluice::httpmode
