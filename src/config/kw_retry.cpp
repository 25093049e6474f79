// `retry-on`: which failures replay a request (see also `retries` and
// `option redispatch` in kw_proxy.cpp).

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config::kw {

Result<void> retry_on_kw(Parser& p, const Stmt& st) {
  if (st.args.empty())
    return make_error("'retry-on' expects conditions like conn-failure, empty-response, 503");
  unsigned bits = 0;
  for (std::size_t i = 0; i < st.args.size(); ++i) {
    const std::string& w = st.args[i];
    if (w == "none") {
      if (st.args.size() > 1) return make_error("'retry-on none' cannot be combined with others");
      bits = 0;
    } else if (w == "conn-failure") {
      bits |= retry_on::kConnFailure;
    } else if (w == "empty-response") {
      bits |= retry_on::kEmptyResponse;
    } else if (w == "junk-response") {
      bits |= retry_on::kJunkResponse;
    } else if (w == "response-timeout") {
      bits |= retry_on::kResponseTimeout;
    } else if (w == "0rtt-rejected") {
      bits |= retry_on::k0rttRejected;
    } else if (w == "all-retryable-errors") {
      bits |= retry_on::kConnFailure | retry_on::kEmptyResponse | retry_on::kJunkResponse |
              retry_on::kResponseTimeout | retry_on::k0rttRejected | retry_on::status_bit(500) |
              retry_on::status_bit(502) | retry_on::status_bit(503) | retry_on::status_bit(504);
    } else if (auto code = parse_uint(w, 100, 599)) {
      unsigned b = retry_on::status_bit(static_cast<int>(*code));
      if (b == 0)
        return make_error("'retry-on' cannot retry on status " + quote(w) +
                          " (401, 403, 404, 408, 425, 500, 501, 502, 503 and 504 can)");
      bits |= b;
    } else {
      return make_error("unknown 'retry-on' condition " + quote(w) +
                        did_you_mean(w, {"none", "conn-failure", "empty-response",
                                         "junk-response", "response-timeout", "0rtt-rejected",
                                         "all-retryable-errors"}));
    }
  }
  p.proxy().retry_on = bits;  // replaces earlier settings: not cumulative
  return {};
}

}  // namespace sluice::config::kw
