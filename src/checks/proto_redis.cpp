// `option redis-check`: PING, expect +PONG, then QUIT.

#include <memory>

#include "checks/protocols.h"

namespace sluice::checks {

namespace {
// As haproxy does: look for "+PONG\r\n" anywhere in what the server sent,
// and keep waiting for it while the connection stays open (a server that
// is not Redis, or one that wants AUTH, times out: L7TOUT). A server that
// closes without it fails with its first line as the info (L7STS).
class PongMatcher final : public Matcher {
 public:
  Verdict match(std::string_view in, bool eof) const override {
    if (in.find("+PONG\r\n") != std::string_view::npos)
      return Verdict::pass(CheckStatus::L7Ok, "Redis server is ok");
    if (!eof) return Verdict::need_more();
    return Verdict::fail(CheckStatus::L7Sts, std::string(in.substr(0, in.find("\r\n"))));
  }
};
}  // namespace

std::string compile_redis(const CompileInput&, std::vector<CheckStep>& steps) {
  steps.push_back(CheckStep::connect(false));
  steps.push_back(CheckStep::send("*1\r\n$4\r\nPING\r\n"));
  steps.push_back(CheckStep::expect(std::make_shared<PongMatcher>()));
  steps.push_back(CheckStep::send("*1\r\n$4\r\nQUIT\r\n"));
  return {};
}

}  // namespace sluice::checks
