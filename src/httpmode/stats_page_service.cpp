#include "httpmode/services.h"

namespace sluice::httpmode {

int serve_stats_page(const config::Proxy&, bool, const ServiceRequest& rq, std::string& out) {
  http_response(out, 503, "text/plain", "not yet\n", rq.keep_alive);
  return 503;
}

}  // namespace sluice::httpmode
